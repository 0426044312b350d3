import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileDevice, writeToFile } from "@bigfile/blockdev/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { describeImage, describeSource, expectSameTree } from "../read/_tree_test_util.ts";
import { FilesystemReader } from "../read/filesystem_reader.ts";
import { debianRootPath, haveDebianRoot } from "./_debian_root_test_util.ts";
import { fsckProblems } from "./_fsck_test_util.ts";
import { makeTortureTree, tortureTar } from "./_test_tree.ts";
import { type MkfsOptions, type MkfsSource, mkfs } from "./mkfs.ts";

let work = "";
let tree = "";
let empty = "";
let tarPath = "";

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ext3fs-mkfs-"));
  tree = join(work, "tree");
  empty = join(work, "empty");
  await mkdir(tree);
  await mkdir(empty);
  makeTortureTree(tree, 3000);
  const chunks: Uint8Array[] = [];
  for await (const c of tortureTar()) chunks.push(c.slice());
  tarPath = join(work, "overlay.tar");
  await writeFile(tarPath, Buffer.concat(chunks));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function build(name: string, sources: MkfsSource[], options: MkfsOptions): Promise<string> {
  const image = await mkfs(sources, options);
  const path = join(work, `${name}.img`);
  await writeToFile(image.chunks(), path);
  return path;
}

const matrix: [string, number, number][] = [];
for (const type of ["ext2", "ext3"])
  for (const bs of [1024, 2048, 4096]) for (const isz of [128, 256]) matrix.push([type, bs, isz]);

describe("mkfs matrix: e2fsck -fn is clean", () => {
  it.each(matrix)("%s, %i-byte blocks, %i-byte inodes", async (type, bs, isz) => {
    if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
    const opts: MkfsOptions = {
      type: type as "ext2" | "ext3",
      blockSize: bs,
      inodeSize: isz,
      seed: "matrix",
    };
    const emptyImg = await build(`empty-${type}-${bs}-${isz}`, [empty], opts);
    const e = await fsckProblems(emptyImg);
    expect(e.problems, e.output).toEqual([]);
    expect(e.exitCode).toBe(0);
    const img = await build(`tree-${type}-${bs}-${isz}`, [tree, tarPath], opts);
    const t = await fsckProblems(img);
    expect(t.problems, t.output).toEqual([]);
    expect(t.exitCode).toBe(0);
    const copy = `${img}.copy`;
    await copyFile(img, copy);
    const fixed = await fsckProblems(copy, true);
    expect(fixed.exitCode, fixed.output).toBe(0);
    expect(fixed.problems, fixed.output).toEqual([]); // not even "Optimizing directories"
    await rm(copy);
    await rm(emptyImg);
    await rm(img);
  });
});

describe("hash-indexed directories", () => {
  it("a directory needing index nodes (two levels) passes e2fsck -fn and -fy untouched, and debugfs finds its entries", async () => {
    if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
    const dir = join(work, "huge-dir");
    await mkdir(join(dir, "d"), { recursive: true });
    for (let i = 0; i < 7000; i++)
      await writeFile(join(dir, "d", `name-${i}-${"z".repeat(i % 40)}`), "");
    const img = await build("htree", [dir], { blockSize: 1024, seed: "htree" });
    const f = await fsckProblems(img);
    expect(f.problems, f.output).toEqual([]);
    const dump = await execa("debugfs", ["-R", "htree_dump /d", img], { reject: false });
    expect(dump.stdout).toMatch(/Indirect levels: 1/);
    const one = await execa(
      "debugfs",
      ["-R", `stat "/d/name-6999-${"z".repeat(6999 % 40)}"`, img],
      { reject: false },
    );
    expect(one.stdout).toMatch(/Type: regular/);
    const fixed = await fsckProblems(img, true);
    expect(fixed.exitCode).toBe(0);
    expect(fixed.problems, fixed.output).toEqual([]);
    await rm(img);
  }, 60_000);
});

describe("mkfs of a real Debian root", () => {
  const root = debianRootPath();
  it("debootstrap --variant=minbase tree: e2fsck -fn is clean, the tree reads back, the walk writer gives the same bytes (ext3, 4 KiB and 1 KiB blocks)", async () => {
    if (!haveDebianRoot(root)) return;
    if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
    const source = describeSource(root);
    expect(source.size).toBeGreaterThan(1000);
    for (const blockSize of [4096, 1024]) {
      const img = await build(`debian-${blockSize}`, [root], { blockSize, seed: "debian" });
      const f = await fsckProblems(img);
      expect(f.problems, f.output).toEqual([]);
      expect(f.exitCode).toBe(0);
      const device = await FileDevice.open(img, { readOnly: true });
      try {
        const facts = await describeImage(await FilesystemReader.open(device));
        facts.delete("/lost+found");
        expectSameTree(facts, source);
      } finally {
        await device.close();
      }
      // The walk writer (one directory in memory) gives the same bytes.
      const walked = await build(`debian-walk-${blockSize}`, [root], {
        blockSize,
        seed: "debian",
        writer: "walk",
      });
      const same = await execa("cmp", [img, walked], { reject: false });
      expect(same.exitCode, same.stdout).toBe(0);
      await rm(walked);
      await rm(img);
    }
  }, 180_000);
});

describe("big sparse source files", () => {
  it("a 96 MiB file with three data islands keeps its holes and its bytes (scanned around the page cache)", async () => {
    if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
    const dir = join(work, "sparse-big");
    await mkdir(dir);
    const path = join(dir, "f");
    const size = 96 * 1024 * 1024 + 777;
    const island = Buffer.alloc(5000, 0x5a);
    const fd = openSync(path, "w");
    writeSync(fd, island, 0, island.length, 0);
    writeSync(fd, island, 0, island.length, 50 * 1024 * 1024 + 123);
    writeSync(fd, island, 0, 777, size - 777);
    closeSync(fd);
    const img = await build("sparse-big", [dir], { blockSize: 4096, seed: "sparse" });
    const f = await fsckProblems(img);
    expect(f.problems, f.output).toEqual([]);
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
      // Data blocks: 2 + 2 + 1 (islands) + block-map blocks; far below the 24577 of a dense file.
      expect(st.blocks512 / 8).toBeLessThan(20);
    } finally {
      await device.close();
    }
    await rm(img);
  }, 60_000);
});
