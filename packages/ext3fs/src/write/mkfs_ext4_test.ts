// ext4 against the real e2fsprogs: the e2fsck matrix of the ext3 tests for
// mke2fs's default ext4 features and for -O ^metadata_csum,^64bit (what
// older boot loaders read), the 7000-entry directory, the Debian root,
// extent trees of depth 1 and 2, dir_nlink, and the tree read back.
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { copyFile, mkdir, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FileDevice, writeToFile } from "@bigfile/blockdev/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { describeImage, describeSource, expectSameTree } from "../read/_tree_test_util.ts";
import { checkFilesystem } from "../read/check_filesystem.ts";
import { FilesystemReader } from "../read/filesystem_reader.ts";
import { debianRootPath, haveDebianRoot } from "./_debian_root_test_util.ts";
import { fsckProblems } from "./_fsck_test_util.ts";
import { makeTortureFixture } from "./_test_tree.ts";
import { type MkfsOptions, type MkfsSource, mkfs } from "./mkfs.ts";

let work = "";
let tree = "";
let empty = "";
let tarPath = "";

beforeAll(async () => {
  ({ work, tree, tarPath } = await makeTortureFixture("ext3fs-ext4-", 3000));
  empty = join(work, "empty");
  await mkdir(empty);
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

async function build(name: string, sources: MkfsSource[], options: MkfsOptions): Promise<string> {
  const image = await mkfs(sources, options);
  const path = join(work, `${name}.img`);
  await writeToFile(image.chunks(), path);
  return path;
}

/** e2fsck -fn finds nothing, and -fy on a copy changes nothing. */
async function expectClean(img: string): Promise<void> {
  const f = await fsckProblems(img);
  expect(f.problems, f.output).toEqual([]);
  expect(f.exitCode, f.output).toBe(0);
  const copy = `${img}.copy`;
  await copyFile(img, copy);
  const fixed = await fsckProblems(copy, true);
  expect(fixed.problems, fixed.output).toEqual([]); // not even "Optimizing directories"
  expect(fixed.exitCode, fixed.output).toBe(0);
  await rm(copy);
}

/** Reads the image back with our reader and compares it with the source tree. */
async function expectTree(img: string, source: string): Promise<void> {
  const device = await FileDevice.open(img, { readOnly: true });
  try {
    const reader = await FilesystemReader.open(device);
    const facts = await describeImage(reader);
    facts.delete("/lost+found");
    expectSameTree(facts, describeSource(source));
    // Our own check (every checksum verified) agrees with e2fsck: nothing to say.
    expect((await checkFilesystem(reader)).findings).toEqual([]);
  } finally {
    await device.close();
  }
}

/** The two feature sets every test runs with. */
const FEATURE_SETS: [string, string | undefined][] = [
  ["ext4", undefined],
  ["ext4 -O ^metadata_csum,^64bit", "^metadata_csum,^64bit"],
];

const matrix: [string, number, number, string | undefined][] = [];
for (const [name, features] of FEATURE_SETS)
  for (const bs of [1024, 2048, 4096])
    for (const isz of [128, 256]) matrix.push([name, bs, isz, features]);

/** The features line dumpe2fs prints for an image. */
async function featuresOf(img: string): Promise<string> {
  const sb = await execa("dumpe2fs", ["-h", img], { reject: false });
  return /^Filesystem features:\s+(.*)$/m.exec(sb.stdout)?.[1]?.trim() ?? "";
}

describe("ext4 matrix: e2fsck -fn is clean, -fy changes nothing", () => {
  it.each(matrix)("%s, %i-byte blocks, %i-byte inodes", async (name, bs, isz, features) => {
    if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
    const opts: MkfsOptions = { type: "ext4", blockSize: bs, inodeSize: isz, seed: "matrix" };
    if (features) opts.features = features;
    const tag = `${name.replace(/\W+/g, "-")}-${bs}-${isz}`;
    const emptyImg = await build(`empty-${tag}`, [empty], opts);
    await expectClean(emptyImg);
    const image = await mkfs([tree, tarPath], opts);
    const img = join(work, `tree-${tag}.img`);
    await writeToFile(image.chunks(), img);
    await expectClean(img);
    // The features written are those mke2fs writes for the same size and options.
    const theirs = join(work, `mke2fs-${tag}.img`);
    await writeFile(theirs, "");
    await truncate(theirs, image.size);
    const args = ["-q", "-F", "-t", "ext4", "-b", `${bs}`, "-I", `${isz}`];
    const m = await execa("mke2fs", [...args, ...(features ? ["-O", features] : []), theirs], {
      reject: false,
      env: { MKE2FS_CONFIG: "/etc/mke2fs.conf" },
    });
    expect(m.exitCode, m.stderr).toBe(0);
    expect(await featuresOf(img)).toBe(await featuresOf(theirs));
    await rm(emptyImg);
    await rm(img);
    await rm(theirs);
  });

  it.each(FEATURE_SETS)(
    "%s: the tree alone reads back as the source (contents, modes, owners, times, links)",
    async (_name, features) => {
      if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
      const opts: MkfsOptions = { type: "ext4", blockSize: 4096, seed: "readback" };
      if (features) opts.features = features;
      const img = await build("readback", [tree], opts);
      await expectClean(img);
      await expectTree(img, tree);
      // Files are extent-mapped: debugfs shows extents for a regular file and the root.
      const stat = await execa("debugfs", ["-R", "stat /", img], { reject: false });
      expect(stat.stdout).toMatch(/Flags: 0x81000|Flags: 0x80000/);
      expect(stat.stdout).toMatch(/EXTENTS:/);
      await rm(img);
    },
  );
});

describe("ext4 hash-indexed directories", () => {
  it.each(FEATURE_SETS)(
    "%s: 7000 entries (two index levels) pass e2fsck -fn and -fy untouched",
    async (_name, features) => {
      if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
      const dir = join(work, "huge-dir");
      await mkdir(join(dir, "d"), { recursive: true });
      for (let i = 0; i < 7000; i++)
        await writeFile(join(dir, "d", `name-${i}-${"z".repeat(i % 40)}`), "");
      const opts: MkfsOptions = { type: "ext4", blockSize: 1024, seed: "htree" };
      if (features) opts.features = features;
      const img = await build("htree", [dir], opts);
      await expectClean(img);
      const dump = await execa("debugfs", ["-R", "htree_dump /d", img], { reject: false });
      expect(dump.stdout).toMatch(/Indirect levels: 1/);
      const one = await execa(
        "debugfs",
        ["-R", `stat "/d/name-6999-${"z".repeat(6999 % 40)}"`, img],
        { reject: false },
      );
      expect(one.stdout).toMatch(/Type: regular/);
      await rm(img);
    },
    120_000,
  );
});

describe("ext4 of a real Debian root", () => {
  const root = debianRootPath();
  it.each(FEATURE_SETS)(
    "%s: e2fsck -fn is clean, the tree reads back, the walk writer gives the same bytes (4 KiB and 1 KiB blocks)",
    async (_name, features) => {
      if (!haveDebianRoot(root)) return;
      if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
      for (const blockSize of [4096, 1024]) {
        const opts: MkfsOptions = { type: "ext4", blockSize, seed: "debian" };
        if (features) opts.features = features;
        const img = await build(`debian-${blockSize}`, [root], opts);
        await expectClean(img);
        await expectTree(img, root);
        const walked = await build(`debian-walk-${blockSize}`, [root], { ...opts, writer: "walk" });
        const same = await execa("cmp", [img, walked], { reject: false });
        expect(same.exitCode, same.stdout).toBe(0);
        await rm(walked);
        await rm(img);
      }
    },
    300_000,
  );
});

/** A sparse file of `islands` 5000-byte data islands, 64 KiB apart. */
function islandsFile(path: string, islands: number): number {
  const size = islands * 65536 + 777;
  const island = Buffer.alloc(5000, 0x5a);
  const fd = openSync(path, "w");
  for (let i = 0; i < islands; i++) {
    island[0] = i & 0xff;
    writeSync(fd, island, 0, island.length, i * 65536 + 1000);
  }
  writeSync(fd, island, 0, 777, size - 777);
  closeSync(fd);
  return size;
}

describe("ext4 extent trees", () => {
  it.each([
    [4096, 1],
    [1024, 2],
  ])(
    "a sparse file of 400 data islands at %i-byte blocks: an extent tree of depth %i, holes kept, e2fsck clean, read back",
    async (bs, depth) => {
      if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
      const dir = join(work, `islands-${bs}`);
      await mkdir(dir, { recursive: true });
      const path = join(dir, "f");
      const size = islandsFile(path, 400);
      for (const [, features] of FEATURE_SETS) {
        const opts: MkfsOptions = { type: "ext4", blockSize: bs, seed: "islands" };
        if (features) opts.features = features;
        const img = await build(`islands-${bs}`, [dir], opts);
        await expectClean(img);
        const ex = await execa("debugfs", ["-R", "ex /f", img], { reject: false });
        // debugfs lists each node with its level: the root is level 0 of `depth`.
        expect(ex.stdout).toMatch(new RegExp(`^\\s*0/\\s*${depth}\\s`, "m"));
        const device = await FileDevice.open(img, { readOnly: true });
        try {
          const fs = await FilesystemReader.open(device);
          const st = await fs.stat("/f");
          const got = Buffer.alloc(size);
          let at = 0;
          for await (const chunk of fs.fileChunks(st.ino)) {
            got.set(chunk, at);
            at += chunk.length;
          }
          expect(at).toBe(size);
          expect(got.equals(readFileSync(path))).toBe(true);
          // Holes cost nothing: data blocks of the islands plus a few tree blocks.
          expect(st.blocks512 / (bs / 512)).toBeLessThan(400 * (Math.ceil(5000 / bs) + 1) + 20);
        } finally {
          await device.close();
        }
        await rm(img);
      }
    },
    120_000,
  );
});

describe("ext4 long extents", () => {
  it("a 40 MiB file at 1 KiB blocks: extents cut at 32768 blocks and at group metadata, a tree of depth 1, e2fsck clean, read back", async () => {
    if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
    const dir = join(work, "long");
    await mkdir(dir, { recursive: true });
    const bytes = Buffer.alloc(40 << 20);
    for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32LE(i, i);
    await writeFile(join(dir, "f"), bytes);
    for (const [, features] of FEATURE_SETS) {
      const opts: MkfsOptions = { type: "ext4", blockSize: 1024, seed: "long" };
      if (features) opts.features = features;
      const img = await build("long", [dir], opts);
      await expectClean(img);
      const ex = await execa("debugfs", ["-R", "ex /f", img], { reject: false });
      expect(ex.stdout).toMatch(/^\s*0\/\s*1\s/m);
      await expectTree(img, dir);
      await rm(img);
    }
  }, 120_000);
});

describe("ext4 dir_nlink", () => {
  it("a directory of 65001 subdirectories counts 1 link, e2fsck -fn clean; ext3 refuses it", async () => {
    if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
    const dir = join(work, "many");
    await mkdir(join(dir, "d"), { recursive: true });
    for (let i = 0; i < 65001; i++) await mkdir(join(dir, "d", `${i}`));
    const img = await build("nlink", [dir], { type: "ext4", seed: "nlink" });
    const f = await fsckProblems(img);
    expect(f.problems, f.output).toEqual([]);
    expect(f.exitCode).toBe(0);
    const stat = await execa("debugfs", ["-R", "stat /d", img], { reject: false });
    expect(stat.stdout).toMatch(/Links: 1\b/);
    await rm(img);
    await expect(mkfs([dir], { type: "ext3", seed: "nlink" })).rejects.toThrow(
      /65001 subdirectories: ext3 allows 64998/,
    );
  }, 300_000);
});
