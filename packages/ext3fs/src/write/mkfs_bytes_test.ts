import { createHash } from "node:crypto";
import {
  chmodSync,
  lstatSync,
  lutimesSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeTar } from "@bigfile/blockdev";
import { writeToFile } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { main } from "../cli.ts";
import { fsckProblems } from "./_fsck_test_util.ts";
import { makeTortureFixture, patternBytes } from "./_test_tree.ts";
import { type MkfsOptions, type MkfsSource, mkfs } from "./mkfs.ts";

// The writer's bytes, pinned. The SHA-256 sums below were taken from the
// writer as it was at commit 810e3e8, before it was restructured into one allocator shared by
// both writers (issue 16, "First: one writer core, cut by concern"): a change
// of structure must not change a byte of any image. Each image is made by
// both writers (and, through the CLI, with copy threads), from sources whose
// every mode, owner and time is fixed, so the sums do not depend on the
// machine, the umask or the clock. A sum changes only when the format
// written changes on purpose: then say so in the commit. The ext4 sums were
// taken when ext4 was added (issue 16, second half), once e2fsck -fn found
// each image clean; the cases marked `fsck` check that again every run.

let work = "";
let tree = "";
let tarPath = "";

/** Fixes what the machine decides about a tree: modes by umask, times by the clock. */
function pin(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) {
      if (name !== "sticky-dir" && !dir.endsWith("modes")) chmodSync(path, 0o755);
      pin(path);
    } else if (st.isFile() && !dir.endsWith("modes")) chmodSync(path, 0o644);
    lutimesSync(path, 1_650_000_000, 1_600_000_000 + (st.size % 1000));
  }
  lutimesSync(dir, 1_650_000_000, 1_600_000_000);
}

async function* fixedTar(): AsyncGenerator<Uint8Array> {
  const file = (path: string, body: Uint8Array, extra: Record<string, number> = {}) => ({
    path,
    type: "file" as const,
    mode: 0o644,
    uid: 1000,
    gid: 1000,
    mtime: 1_500_000_000,
    body,
    size: body.length,
    ...extra,
  });
  yield* writeTar([
    { path: ".", type: "directory", mode: 0o755, uid: 0, gid: 0, mtime: 1_400_000_000 },
    { path: "etc", type: "directory", mode: 0o755, mtime: 1_400_000_000 },
    file("etc/hostname", new TextEncoder().encode("bigfile\n")),
    file("etc/big", patternBytes(300_000, 5), { uid: 0, gid: 0 }),
    { path: "etc/link", type: "symlink", linkname: "hostname", mtime: 1_400_000_000 },
    { path: "etc/hard", type: "hardlink", linkname: "etc/hostname" },
    { path: "var/lib", type: "directory", mode: 0o700, mtime: 1_300_000_000 },
    ...Array.from({ length: 400 }, (_, i) =>
      file(`var/lib/pkg-${String(i).padStart(4, "0")}-a-name-of-some-length`, patternBytes(i, i)),
    ),
    { path: "dev/console", type: "char", mode: 0o600, devmajor: 5, devminor: 1, mtime: 1 },
  ]);
}

beforeAll(async () => {
  ({ work, tree, tarPath } = await makeTortureFixture("ext3fs-bytes-", 700));
  // A socket exists only where python3 made one: leave it out everywhere.
  rmSync(join(tree, "socket"), { force: true });
  await mkdir(join(tree, "big"));
  // 10 MiB: at 1 KiB blocks its contents cross a block-group boundary.
  writeFileSync(join(tree, "big", "ten"), patternBytes(10 << 20, 3));
  pin(tree);
  const chunks: Uint8Array[] = [];
  for await (const c of fixedTar()) chunks.push(c.slice());
  writeFileSync(join(work, "fixed.tar"), Buffer.concat(chunks));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function sha256(sources: MkfsSource[], options: MkfsOptions): Promise<string> {
  const hash = createHash("sha256");
  const image = await mkfs(sources, options);
  for await (const chunk of image.chunks({ reuseBuffers: true })) hash.update(chunk);
  return hash.digest("hex");
}

interface Case {
  name: string;
  sources: () => MkfsSource[];
  options: MkfsOptions;
  sha256: string;
  /** Also check the image with e2fsck -fn (the ext4 sums were pinned after it passed). */
  fsck?: boolean;
}

const CASES: Case[] = [
  {
    name: "ext3, 1 KiB blocks, directory and tar overlay, sized to fit",
    sources: () => [tree, tarPath, join(work, "fixed.tar")],
    options: { seed: "bytes-1", squashOwners: true },
    sha256: "df1ea7246e20c311db69ad93677bd481c7ee348cb86f1a30cc621535c38023ad",
  },
  {
    name: "ext3, 4 KiB blocks, 128-byte inodes, a fixed size, label, root owner",
    sources: () => [tree, join(work, "fixed.tar")],
    options: {
      seed: "bytes-2",
      squashOwners: true,
      blockSize: 4096,
      inodeSize: 128,
      size: 160 << 20,
      label: "pinned",
      rootOwner: { uid: 7, gid: 8 },
    },
    sha256: "e35fa4c0fc7f4e2e0d17693f39a0387bb678ab7fcc13e819bbdb9e8c2cd0bff6",
  },
  {
    name: "ext2, 2 KiB blocks, -N, -m, SOURCE_DATE_EPOCH",
    sources: () => [join(work, "fixed.tar"), tree],
    options: {
      type: "ext2",
      sourceDateEpoch: 1_550_000_000,
      squashOwners: true,
      blockSize: 2048,
      blocks: 60_000,
      inodes: 5000,
      reservedPercent: 1,
      uuid: "01234567-89ab-cdef-0123-456789abcdef",
    },
    sha256: "2402a630234ae987e458536d4396b60e4f4bb594f59f4aaf655f09c99b5424f3",
  },
  {
    name: "ext3, a tar stream only",
    sources: () => [{ kind: "tar-stream", stream: fixedTar(), label: "-" }],
    options: { seed: "bytes-4" },
    sha256: "2ca0a01af2cabc5722033eef1bea930303756aa8ea5ddd887723ec38ea787f4f",
  },
  // ext4, pinned once e2fsck -fn found each image clean (checked again below).
  {
    name: "ext4, 1 KiB blocks, directory and tar overlay, sized to fit",
    sources: () => [tree, tarPath, join(work, "fixed.tar")],
    options: { type: "ext4", seed: "bytes-7", squashOwners: true },
    sha256: "a0084cd03e77d477d74c3774cba95fc4fc29149ecfdd8a93136178bf9902d868",
    fsck: true,
  },
  {
    name: "ext4 -O ^metadata_csum,^64bit, 4 KiB blocks, 128-byte inodes, a fixed size",
    sources: () => [tree, join(work, "fixed.tar")],
    options: {
      type: "ext4",
      features: "^metadata_csum,^64bit",
      seed: "bytes-8",
      squashOwners: true,
      blockSize: 4096,
      inodeSize: 128,
      size: 160 << 20,
      label: "pinned4",
    },
    sha256: "0f87f9c1961f04c7d7eabe1b7e59b2f4b2b38437ee2665bdb3354b904e910b04",
    fsck: true,
  },
  {
    name: "ext4, 2 KiB blocks, SOURCE_DATE_EPOCH, a tar stream only",
    sources: () => [{ kind: "tar-stream", stream: fixedTar(), label: "-" }],
    options: { type: "ext4", sourceDateEpoch: 1_550_000_000, blockSize: 2048 },
    sha256: "3aabe620a2a8cb5fdf77e4b4213dcf206296ae9416abd9d0c9f76cc6e5564eb0",
    fsck: true,
  },
];

describe("mkfs bytes, pinned", () => {
  for (const c of CASES) {
    for (const writer of ["tree", "walk"] as const) {
      it(`${c.name}: the ${writer} writer`, async () => {
        expect(await sha256(c.sources(), { ...c.options, writer })).toBe(c.sha256);
      });
    }
    if (c.fsck) {
      it(`${c.name}: e2fsck -fn is clean`, async () => {
        if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
        const out = join(work, "fsck.img");
        await writeToFile((await mkfs(c.sources(), c.options)).chunks(), out);
        const f = await fsckProblems(out);
        expect(f.problems, f.output).toEqual([]);
        expect(f.exitCode).toBe(0);
        await rm(out);
      });
    }
  }

  it("ext3 with a device table (the tree writer)", async () => {
    const deviceTable = "/dev d 755 0 0 - - - - -\n/dev/tty c 666 0 5 4 0 0 1 4\n";
    expect(
      await sha256([join(work, "fixed.tar")], { seed: "bytes-5", deviceTable, writer: "tree" }),
    ).toBe("0d09a60b4e1aec3e0871ccd79c1b8cbc19d22506923d079c72d2142894297745");
  });

  it("ext4 with a device table (the tree writer), e2fsck-clean", async () => {
    const deviceTable = "/dev d 755 0 0 - - - - -\n/dev/tty c 666 0 5 4 0 0 1 4\n";
    const options: MkfsOptions = { type: "ext4", seed: "bytes-11", deviceTable, writer: "tree" };
    expect(await sha256([join(work, "fixed.tar")], options)).toBe(
      "20be59c16f3a60ba375c9aa5aeb051a248dfbd631b6ef3c8e7bf3289f8a935e3",
    );
    if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
    const out = join(work, "devices4.img");
    await writeToFile((await mkfs([join(work, "fixed.tar")], options)).chunks(), out);
    const f = await fsckProblems(out);
    expect(f.problems, f.output).toEqual([]);
    await rm(out);
  });

  for (const writer of ["tree", "walk"]) {
    it(`ext3fs mkfs -o with copy threads: the ${writer} writer`, async () => {
      const out = join(work, `threads-${writer}.img`);
      const io = memoryIo();
      const args = ["mkfs", tree, tarPath, "-b", "1024", "--seed", "bytes-6", "--squash-owners"];
      expect(
        await main([...args, "--writer", writer, "--threads", "2", "-o", out, "-q"], io),
        io.stderrText(),
      ).toBe(0);
      expect(createHash("sha256").update(readFileSync(out)).digest("hex")).toBe(
        "419d6a1cf558f4a88db07766fd02925c5a972f078811f02eee129772a238e201",
      );
    });
  }

  for (const writer of ["tree", "walk"]) {
    it(`ext3fs mkfs -t ext4 -o with copy threads: the ${writer} writer`, async () => {
      const out = join(work, `threads4-${writer}.img`);
      const io = memoryIo();
      const args = ["mkfs", tree, tarPath, "-t", "ext4", "-b", "1024", "--seed", "bytes-10"];
      expect(
        await main(
          [...args, "--squash-owners", "--writer", writer, "--threads", "2", "-o", out, "-q"],
          io,
        ),
        io.stderrText(),
      ).toBe(0);
      expect(createHash("sha256").update(readFileSync(out)).digest("hex")).toBe(
        "b7f1604e69ffca2dbc19c153374c54c305918882603e395d2d7267ff7089172d",
      );
      if (await haveTool("e2fsck", "e2fsprogs")) {
        const f = await fsckProblems(out);
        expect(f.problems, f.output).toEqual([]);
      }
    });
  }
});
