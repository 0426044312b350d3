// The feature set and -O edits against the real mke2fs: the defaults are
// those of the installed mke2fs.conf, every combination we refuse as mke2fs
// does is refused by mke2fs too with the reason we quote, and every feature
// we refuse as not written is one mke2fs accepts (our limit, named).
import { mkdir, mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { main } from "../cli.ts";
import { editFeatures, type FsType, namesOf, typeFeatures } from "./_mkfs_features.ts";
import { ExtOptionError } from "./errors.ts";
import { mkfs } from "./mkfs.ts";

let work = "";
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ext3fs-features-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Runs mke2fs on a fresh 64 MiB file; returns its exit code, stderr and the features it wrote. */
async function mke2fs(
  type: FsType,
  features: string | undefined,
): Promise<{ exitCode: number; stderr: string; features: string[] }> {
  const img = join(work, "mke2fs.img");
  await rm(img, { force: true });
  await writeFile(img, "");
  await truncate(img, 64 << 20);
  const args = ["-q", "-F", "-t", type, ...(features ? ["-O", features] : []), img];
  const m = await execa("mke2fs", args, {
    reject: false,
    all: true,
    env: { MKE2FS_CONFIG: "/etc/mke2fs.conf" },
  });
  let written: string[] = [];
  if (m.exitCode === 0) {
    const d = await execa("dumpe2fs", ["-h", img], { reject: false });
    written = (/^Filesystem features:\s+(.*)$/m.exec(d.stdout)?.[1] ?? "").trim().split(/\s+/);
  }
  // Some refusals go to stdout: both, as they came.
  return { exitCode: m.exitCode ?? -1, stderr: m.all ?? "", features: written };
}

/** mke2fs's set of feature names for the features it lists (needs_recovery aside). */
function sorted(names: string[]): string[] {
  return [...names].sort();
}

describe("mkfs feature sets", () => {
  it.each(["ext2", "ext3", "ext4"] as const)("%s: the features mke2fs -t writes", async (type) => {
    if (!(await haveTool("mke2fs", "e2fsprogs"))) return;
    const theirs = await mke2fs(type, undefined);
    expect(theirs.exitCode, theirs.stderr).toBe(0);
    expect(sorted(namesOf(typeFeatures(type)))).toEqual(sorted(theirs.features));
  });

  it.each([
    ["ext4", "^metadata_csum,^64bit"],
    ["ext4", "^has_journal"],
    ["ext4", "^flex_bg ^huge_file"],
    ["ext4", "+dir_index,-dir_nlink"],
    ["ext3", "extents,flex_bg"],
    ["ext2", "has_journal"],
    ["ext4", "uninit_bg"],
  ] as const)("%s -O %s: the set mke2fs writes", async (type, edits) => {
    if (!(await haveTool("mke2fs", "e2fsprogs"))) return;
    const theirs = await mke2fs(type, edits);
    expect(theirs.exitCode, theirs.stderr).toBe(0);
    expect(sorted(namesOf(editFeatures(typeFeatures(type), edits)))).toEqual(
      sorted(theirs.features),
    );
  });

  it.each([
    ["ext4", "^extent", "Extents MUST be enabled for a 64-bit filesystem"],
    ["ext2", "64bit", "Extents MUST be enabled for a 64-bit filesystem"],
    ["ext4", "meta_bg", "The resize_inode and meta_bg features are not compatible"],
    [
      "ext3",
      "^sparse_super",
      "reserved online resize blocks not supported on non-sparse filesystem",
    ],
    ["ext4", "bogus", "Invalid filesystem option set"],
  ] as const)("%s -O %s: refused as mke2fs refuses it", async (type, edits, reason) => {
    if (!(await haveTool("mke2fs", "e2fsprogs"))) return;
    const theirs = await mke2fs(type, edits);
    expect(theirs.exitCode).not.toBe(0);
    expect(theirs.stderr).toContain(reason);
    let error: unknown;
    try {
      editFeatures(typeFeatures(type), edits);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExtOptionError);
    expect((error as ExtOptionError).option).toBe("features");
    expect((error as ExtOptionError).message).toContain(reason);
  });

  it.each([
    ["ext4", "inline_data", "inline_data"],
    ["ext4", "metadata_csum_seed", "metadata_csum_seed"],
    ["ext4", "quota", "quota"],
    ["ext4", "^metadata_csum,uninit_bg", "uninit_bg"],
    ["ext4", "^sparse_super,^resize_inode", "sparse_super"],
    ["ext4", "^filetype", "filetype"],
    ["ext4", "large_dir", "large_dir"],
  ] as const)(
    "%s -O %s: mke2fs writes it, mkfs refuses it by name (not written here)",
    async (type, edits, name) => {
      if (!(await haveTool("mke2fs", "e2fsprogs"))) return;
      const theirs = await mke2fs(type, edits);
      expect(theirs.exitCode, theirs.stderr).toBe(0);
      expect(() => editFeatures(typeFeatures(type), edits)).toThrow(new RegExp(name));
    },
  );
});

describe("a feature a tree needs", () => {
  it("a file of 2 GiB with -O ^large_file is refused before any output, by both writers", async () => {
    const dir = join(work, "large");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "big"), "");
    await truncate(join(dir, "big"), 2 ** 31);
    for (const writer of ["tree", "walk"] as const) {
      await expect(
        mkfs([dir], { type: "ext4", features: "^large_file", writer, seed: "large" }),
      ).rejects.toThrow(/\/big: 2147483648 bytes needs the large_file feature/);
    }
  });
});

describe("ext3fs mkfs -t ext4 -O on the command line", () => {
  it("refuses what mke2fs refuses, in one line, exit 2, nothing written", async () => {
    const out = join(work, "never.img");
    const io = memoryIo();
    const code = await main(["mkfs", work, "-t", "ext4", "-O", "^extent", "-o", out], io);
    expect(code).toBe(2);
    expect(io.stderrText().trim().split("\n")).toHaveLength(1);
    expect(io.stderrText()).toContain(
      "-O ^extent: Extents MUST be enabled for a 64-bit filesystem",
    );
    await expect(execa("test", ["-e", out])).rejects.toThrow();
  });

  it("refuses a feature it does not write, naming it", async () => {
    const io = memoryIo();
    const code = await main(
      ["mkfs", work, "-t", "ext4", "-O", "inline_data", "-o", join(work, "x.img")],
      io,
    );
    expect(code).toBe(2);
    expect(io.stderrText()).toMatch(/-O inline_data: ext3fs mkfs does not write inline_data/);
  });

  it("refuses an unknown type", async () => {
    const io = memoryIo();
    expect(await main(["mkfs", work, "-t", "ext5", "-o", join(work, "y.img")], io)).toBe(2);
    expect(io.stderrText()).toContain("-t wants ext2, ext3 or ext4, got ext5");
  });

  it("writes -t ext4 -O ^metadata_csum,^64bit, e2fsck clean", async () => {
    if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
    const out = join(work, "cli.img");
    const io = memoryIo();
    const args = ["mkfs", work, "-t", "ext4", "-O", "^metadata_csum,^64bit", "--seed", "cli"];
    expect(await main([...args, "-o", out, "-q"], io), io.stderrText()).toBe(0);
    const f = await execa("e2fsck", ["-fn", out], { reject: false });
    expect(f.exitCode, f.stdout).toBe(0);
    const d = await execa("dumpe2fs", ["-h", out], { reject: false });
    expect(d.stdout).toMatch(/Filesystem features:.* extent .*flex_bg/);
    expect(d.stdout).not.toMatch(/metadata_csum|64bit/);
  });
});
