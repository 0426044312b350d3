// One damaged entry among good ones: every command lists and extracts the
// good ones, names the bad one on stderr, exits 1, and no claimed size or
// repeated block map turns the small image into a large output.
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { FileDevice } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTools } from "../../../../test/harness/tools.ts";
import { main } from "../cli.ts";
import { debugfs, mkfsFromTree, scratch } from "./_fixtures_test_util.ts";
import { FilesystemReader } from "./filesystem_reader.ts";

async function run(args: string[]) {
  const io = memoryIo({});
  const code = await main(args, io);
  return { code, stdout: io.stdoutText(), bytes: io.stdoutBytes(), stderr: io.stderrText() };
}

/** Writes `bytes` into the image file at `offset`. */
function poke(image: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(image, "r+");
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Runs a read on the image's filesystem and closes it. */
async function withFs<T>(image: string, work: (fs: FilesystemReader) => Promise<T>): Promise<T> {
  const device = await FileDevice.open(image, { readOnly: true });
  try {
    return await work(await FilesystemReader.open(device));
  } finally {
    await device.close();
  }
}

function le32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

/** The names GNU tar lists in an archive. */
async function tarNames(archive: Uint8Array): Promise<string[]> {
  const listed = await execa("tar", ["-tf", "-"], { input: archive, reject: false });
  expect(listed.exitCode).toBe(0);
  return String(listed.stdout).split("\n").filter(Boolean);
}

const canRun = haveTools(["mke2fs", "debugfs", "e2fsck", "tar"]);

describe.skipIf(!canRun)("one damaged entry among good ones", () => {
  const tmp = scratch();
  const tree = join(tmp.dir, "tree");
  const image = join(tmp.dir, "damaged.img");
  const sparse = join(tmp.dir, "sparse.img");
  const shared = join(tmp.dir, "shared.img");
  const ext4 = join(tmp.dir, "ext4.img");
  beforeAll(async () => {
    mkdirSync(join(tree, "dir"), { recursive: true });
    for (const name of ["a", "b", "huge", "hostile", "c"])
      writeFileSync(join(tree, "dir", name), `${name}\n`.repeat(300));
    // Enough entries for three directory blocks of 1 KiB.
    mkdirSync(join(tree, "many"));
    for (let i = 0; i < 120; i++) writeFileSync(join(tree, "many", `entry-${i}`), `${i}\n`);
    writeFileSync(join(tree, "big"), new Uint8Array(3 << 20).fill(7));
    for (let i = 0; i < 6; i++) writeFileSync(join(tree, `copy${i}`), "x");
    const { symlinkSync } = await import("node:fs");
    symlinkSync("abc", join(tree, "dir", "nul-link"));
    symlinkSync("a", join(tree, "dir", "good-link"));
    symlinkSync(`a/${"x".repeat(80)}`, join(tree, "dir", "slow-link"));
    await mkfsFromTree(image, tree, { type: "ext3", blockSize: 1024, size: "8M" });
    // A size of 40 TB (past what a 1 KiB block map can address) and one over 2^63.
    await debugfs(image, "sif /dir/huge size 0x280000000000", true);
    await debugfs(image, "sif /dir/hostile size 0x8000000000000010", true);
    // A fast symlink whose target "a\0c" holds a NUL byte.
    await debugfs(image, "sif /dir/nul-link block[0] 0x00630061", true);
    // One of the directory's blocks is garbage.
    await debugfs(image, "zap_block -f /many -p 255 1", true);

    // A sound image with a genuinely sparse 16 GB file (within what 1 KiB maps address).
    await mkfsFromTree(sparse, tree, { type: "ext3", blockSize: 1024, size: "8M" });
    await debugfs(sparse, "sif /dir/a size 0x400000000", true);

    // Six files that map the 3 MiB of /big again: 21 MiB of data from an 8 MiB image.
    await mkfsFromTree(shared, tree, { type: "ext3", blockSize: 1024, size: "8M" });
    const offsets = await withFs(shared, async (fs) => {
      const big = await fs.inode(await fs.lookup("/big"));
      const out: number[] = [];
      for (let i = 0; i < 6; i++) out.push((await fs.inode(await fs.lookup(`/copy${i}`))).offset);
      return { block: big.block, size: big.size, out };
    });
    for (const at of offsets.out) {
      poke(shared, at + 4, le32(offsets.size));
      poke(shared, at + 40, offsets.block);
    }

    // ext4: a file whose extent header is gone, and an entry naming an inode past the end.
    await mkfsFromTree(ext4, tree, { type: "ext4", blockSize: 4096, size: "16M" });
    await debugfs(ext4, "sif /dir/b block[0] 0", true);
    // A slow symlink whose extent header is gone: its target cannot be read.
    await debugfs(ext4, "sif /dir/slow-link block[0] 0", true);
    const entry = await withFs(ext4, async (fs) => {
      const entries = await fs.dirEntries(await fs.lookup("/dir"));
      return entries.find((e) => e.name === "c")?.offset as number;
    });
    poke(ext4, entry, le32(0x7fffffff));
  });
  afterAll(() => tmp.cleanup());

  it("the damage is real: e2fsck -fn finds it", async () => {
    for (const img of [image, shared, ext4]) {
      const result = await execa("e2fsck", ["-fn", img], { reject: false });
      expect([img, (result.exitCode ?? 0) & 4]).toEqual([img, 4]);
    }
    const clean = await execa("e2fsck", ["-fn", sparse], { reject: false });
    expect(clean.exitCode).toBe(0);
  });

  it("extract --tar archives every good entry, names each bad one, exits 1", async () => {
    const result = await run(["extract", image, "--tar"]);
    expect(result.code).toBe(1);
    const names = await tarNames(result.bytes);
    for (const good of ["./dir/a", "./dir/b", "./dir/c", "./dir/good-link", "./big", "./many/"])
      expect(names).toContain(good);
    for (const bad of ["./dir/huge", "./dir/hostile", "./dir/nul-link"])
      expect(names).not.toContain(bad);
    expect(result.stderr).toMatch(/\/dir\/huge: .*exceeds what its block map can address/);
    expect(result.stderr).toMatch(/\/dir\/hostile: /);
    expect(result.stderr).toMatch(/\/dir\/nul-link: its symlink target holds a NUL byte/);
    expect(result.stderr).toMatch(/\/many: Cannot list directory inode \d+: /);
    // The good blocks of the damaged directory are still archived.
    expect(names.filter((n) => n.startsWith("./many/entry-")).length).toBeGreaterThan(40);
    expect(result.bytes.length).toBeLessThan(8 << 20);
  });

  it("extract to a directory writes every good entry and names each bad one", async () => {
    const out = join(tmp.dir, "out");
    const result = await run(["extract", image, out]);
    expect(result.code).toBe(1);
    expect(readFileSync(join(out, "dir", "c"), "utf8")).toBe("c\n".repeat(300));
    expect(statSync(join(out, "big")).size).toBe(3 << 20);
    for (const bad of ["huge", "hostile", "nul-link"])
      expect(() => statSync(join(out, "dir", bad))).toThrow();
    expect(result.stderr).toMatch(/\/dir\/huge: /);
  });

  it("a genuinely sparse file costs no bytes: a sparse tar member, holes on disk", async () => {
    const result = await run(["extract", sparse, "--tar"]);
    expect(result.code).toBe(0);
    expect(result.bytes.length).toBeLessThan(8 << 20);
    const listed = await execa("tar", ["-tvf", "-"], { input: result.bytes });
    expect(String(listed.stdout)).toMatch(/ 17179869184 .* \.\/dir\/a$/m);
    // GNU tar restores the member with its holes and its data.
    const untarred = join(tmp.dir, "untarred");
    mkdirSync(untarred);
    await execa("tar", ["-xf", "-", "-C", untarred], { input: result.bytes });
    const restored = statSync(join(untarred, "dir", "a"));
    expect(restored.size).toBe(2 ** 34);
    expect(restored.blocks * 512).toBeLessThan(1 << 20);
    const head = Buffer.alloc(600);
    const fd = openSync(join(untarred, "dir", "a"), "r");
    const { readSync } = await import("node:fs");
    readSync(fd, head, 0, 600, 0);
    closeSync(fd);
    expect(head.toString()).toBe("a\n".repeat(300));
    const out = join(tmp.dir, "sparse-out");
    expect((await run(["extract", sparse, out])).code).toBe(0);
    const extracted = statSync(join(out, "dir", "a"));
    expect(extracted.size).toBe(2 ** 34);
    expect(extracted.blocks * 512).toBeLessThan(1 << 20);
  });

  it("blocks mapped by several files do not multiply the output", async () => {
    const tar = await run(["extract", shared, "--tar"]);
    expect(tar.code).toBe(1);
    expect(tar.bytes.length).toBeLessThan(8 << 20);
    expect(tar.stderr).toMatch(/\/copy\d: .*past the size of the whole filesystem/);
    const names = await tarNames(tar.bytes);
    expect(names).toContain("./big");
    const out = join(tmp.dir, "shared-out");
    const dir = await run(["extract", shared, out]);
    expect(dir.code).toBe(1);
    expect(dir.stderr).toMatch(/\/copy\d: .*past the size of the whole filesystem/);
  });

  it("ls shows the entries of a directory with a damaged block and names the fault", async () => {
    const result = await run(["ls", image, "/many"]);
    expect(result.code).toBe(1);
    expect(result.stdout.split("\n").filter(Boolean).length).toBeGreaterThan(40);
    expect(result.stderr).toMatch(/^ext3fs: \/many: Cannot list directory inode \d+: /m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("ls -l and ls --json show '?' or an error for the bad entry, the rest in full", async () => {
    const long = await run(["ls", "-l", ext4, "/dir"]);
    expect(long.code).toBe(1);
    expect(long.stdout).toMatch(/^\?{10} +\? +\? +\? +\? +\? +c$/m);
    expect(long.stdout).toMatch(/^-rw-r--r-- +1 .* a$/m);
    expect(long.stdout).toMatch(/^lrwxrwxrwx .* good-link -> a$/m);
    expect(long.stderr).toMatch(/^ext3fs: c: Cannot read inode 2147483647/m);
    const json = JSON.parse((await run(["ls", "--json", ext4, "/dir"])).stdout) as {
      name: string;
      error?: string;
      size?: number;
    }[];
    expect(json.find((e) => e.name === "c")?.error).toMatch(/Cannot read inode 2147483647/);
    expect(json.find((e) => e.name === "a")?.size).toBe(600);
    expect(json.find((e) => e.name === "slow-link")?.error).toMatch(/extent header magic/);
    expect(json.length).toBe(8);
    expect(long.stdout).toMatch(/^lrwxrwxrwx .* slow-link -> \?$/m);
    expect(long.stderr).toMatch(/^ext3fs: slow-link: Cannot map inode \d+: extent header magic/m);
  });

  it("stat shows what it can of an inode whose block map is damaged", async () => {
    const result = await run(["stat", ext4, "/dir/b", "--json"]);
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout);
    expect(json.size).toBe(600);
    expect(json.error).toMatch(/block map: .*extent header magic/);
    expect(result.stderr).toMatch(/^ext3fs: \/dir\/b: block map: /m);
  });

  it("extract --tar of the ext4 image skips the bad file and the bad entry only", async () => {
    const result = await run(["extract", ext4, "--tar"]);
    expect(result.code).toBe(1);
    const names = await tarNames(result.bytes);
    expect(names).toContain("./dir/a");
    expect(names).toContain("./dir/huge");
    expect(names).not.toContain("./dir/b");
    expect(names).not.toContain("./dir/c");
    expect(names).not.toContain("./dir/slow-link");
    expect(names).toContain("./dir/good-link");
    expect(result.stderr).toMatch(/\/dir\/b: .*extent header magic/);
    expect(result.stderr).toMatch(/\/dir\/c: Cannot read inode 2147483647/);
  });
});
