import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { FileDevice } from "@bigfile/blockdev";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { debugfs, isRoot, makeTree, mkfsFromTree, scratch } from "./_fixtures_test_util.ts";
import { haveTools } from "./_tools_test_util.ts";
import { ExtPathError } from "./errors.ts";
import { FilesystemReader, type ReaderStat } from "./filesystem_reader.ts";

function sourceType(st: import("node:fs").Stats): string {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char-device";
  if (st.isBlockDevice()) return "block-device";
  if (st.isFIFO()) return "fifo";
  return "socket";
}

/** Every path of a source tree with what the reader must give back for it. */
function describeSource(root: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const visit = (rel: string) => {
    const full = rel === "" ? root : join(root, rel);
    const st = lstatSync(full, { bigint: true });
    const type = sourceType(lstatSync(full));
    const facts: Record<string, unknown> = {
      type,
      mode: Number(st.mode),
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtime: Number(st.mtimeNs / 1_000_000_000n),
      ino: Number(st.ino),
      links: Number(st.nlink),
    };
    if (type === "file") {
      facts.size = Number(st.size);
      facts.sha = createHash("sha256").update(readFileSync(full)).digest("hex");
    }
    if (type === "symlink") facts.target = readlinkSync(full);
    if (type === "char-device" || type === "block-device") facts.rdev = Number(st.rdev);
    out.set(`/${rel}`.replace(/\/$/, "") || "/", facts);
    if (type === "directory")
      for (const name of readdirSync(full)) visit(rel === "" ? name : `${rel}/${name}`);
  };
  visit("");
  return out;
}

async function describeImage(fs: FilesystemReader): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  for await (const entry of fs.walk("/")) {
    if (entry.path === "/lost+found") continue;
    const st: ReaderStat = entry.stat;
    const facts: Record<string, unknown> = {
      type: st.type,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      mtime: st.mtime.seconds,
      ino: st.ino,
      links: st.links,
    };
    if (st.type === "file") {
      facts.size = st.size;
      const hash = createHash("sha256");
      for await (const chunk of fs.fileChunks(st.ino)) hash.update(chunk);
      facts.sha = hash.digest("hex");
    }
    if (st.type === "symlink") facts.target = await fs.readlinkInode(st.ino);
    if (st.rdev)
      facts.rdev = st.rdev.major * 256 + (st.rdev.minor & 0xff) + (st.rdev.minor & ~0xff) * 4096;
    out.set(entry.path, facts);
  }
  return out;
}

/** Compares everything but inode numbers, which must only group the same way. */
function expectSameTree(
  image: Map<string, Record<string, unknown>>,
  source: Map<string, Record<string, unknown>>,
): void {
  const strip = (m: Map<string, Record<string, unknown>>, ignoreRootLinks: boolean) =>
    Object.fromEntries(
      [...m].map(([path, { ino: _ino, ...facts }]) => [
        path,
        path === "/" && ignoreRootLinks ? { ...facts, links: "ignored", mtime: "ignored" } : facts,
      ]),
    );
  expect(strip(image, true)).toEqual(strip(source, true));
  // Hard links: paths sharing a source inode share an image inode.
  const groups = (m: Map<string, Record<string, unknown>>) => {
    const byIno = new Map<unknown, string[]>();
    for (const [path, facts] of m) byIno.set(facts.ino, [...(byIno.get(facts.ino) ?? []), path]);
    return [...byIno.values()]
      .filter((g) => g.length > 1)
      .map((g) => g.sort().join(","))
      .sort();
  };
  expect(groups(image)).toEqual(groups(source));
}

const canRun = haveTools("mke2fs");

describe.skipIf(!canRun)("FilesystemReader on mke2fs -d images", () => {
  const tmp = scratch();
  const tree = join(tmp.dir, "tree");
  let source: Map<string, Record<string, unknown>>;
  beforeAll(() => {
    makeTree(tree);
    source = describeSource(tree);
  });
  afterAll(() => tmp.cleanup());

  const cases = [
    { type: "ext2", blockSize: 1024 },
    { type: "ext2", blockSize: 4096 },
    { type: "ext3", blockSize: 1024 },
    { type: "ext3", blockSize: 4096, inodeSize: 128 },
    { type: "ext4", blockSize: 1024 },
    { type: "ext4", blockSize: 4096 },
  ] as const;
  for (const c of cases) {
    it(`reads back ${c.type} with ${c.blockSize}-byte blocks${"inodeSize" in c ? ` and ${c.inodeSize}-byte inodes` : ""}`, async () => {
      const image = join(tmp.dir, `${c.type}-${c.blockSize}.img`);
      await mkfsFromTree(image, tree, { ...c, size: "24M" });
      const device = await FileDevice.open(image, { readOnly: true });
      try {
        const fs = await FilesystemReader.open(device);
        expect(fs.blockSize).toBe(c.blockSize);
        expectSameTree(await describeImage(fs), source);
        expect(fs.journal?.needsRecovery ?? false).toBe(false);
        expect(fs.journal === undefined).toBe(c.type === "ext2");
        // Paths through symlinks, "..", and errors.
        expect(new TextDecoder().decode(await fs.readFile("/boot/host"))).toBe("bigfile\n");
        expect((await fs.stat("/boot/vmlinuz")).size).toBe(300_000);
        expect((await fs.lstat("/boot/vmlinuz")).type).toBe("symlink");
        expect((await fs.stat("/etc/deep/../deep/er/./still/medium")).size).toBe(13 * 1024 + 5);
        expect((await fs.readdir("/many")).length).toBe(200);
        await expect(fs.stat("/nope")).rejects.toBeInstanceOf(ExtPathError);
        await expect(fs.readdir("/empty")).rejects.toThrow(/not one/);
        await expect(fs.readFile("/etc")).rejects.toThrow(/is a directory/);
      } finally {
        await device.close();
      }
    });
  }

  it("reads nanoseconds and epoch bits of 256-byte inodes, and big device numbers", async () => {
    const image = join(tmp.dir, "ns.img");
    await mkfsFromTree(image, tree, { type: "ext4", blockSize: 4096, size: "24M" });
    // mke2fs -d drops nanoseconds: plant them with debugfs (ns << 2 | epoch bits).
    const set = await debugfs(image, `sif /empty mtime_extra ${(123456789 * 4 + 1) >>> 0}`, true);
    expect(set.exitCode).toBe(0);
    const device = await FileDevice.open(image, { readOnly: true });
    try {
      const fs = await FilesystemReader.open(device);
      const st = await fs.lstat("/empty");
      const src = lstatSync(join(tree, "empty"), { bigint: true });
      expect(st.mtime.seconds).toBe(Number(src.mtimeNs / 1_000_000_000n) + 2 ** 32);
      expect(st.mtime.nanoseconds).toBe(123456789);
      if (isRoot) expect((await fs.lstat("/bigdev")).rdev).toEqual({ major: 259, minor: 300000 });
    } finally {
      await device.close();
    }
  });
});
