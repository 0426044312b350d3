import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeTar } from "@bigfile/blockdev";
import { writeToFile } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../cli.ts";
import { fsckProblems } from "./_fsck_test_util.ts";
import { makeTortureFixture, patternBytes } from "./_test_tree.ts";
import { mkfs } from "./mkfs.ts";

// The walk writer keeps one directory in memory and writes by position; the
// tree writer is proven by e2fsck, round trips and dumpe2fs elsewhere. The
// walk writer must give the very same bytes for the same sources, overlays
// included, and refuse the same way.

let work = "";
let tree = "";
let over = "";

beforeAll(async () => {
  ({ work, tree } = await makeTortureFixture("ext3fs-walk-", 3000));
  // A second source laid over the first: a file replaces a directory, a
  // directory replaces a file, a directory merges (its metadata wins), a
  // lost+found that is a file (mkfs makes the directory), hard links of its own.
  over = join(work, "over");
  await mkdir(join(over, "deep"), { recursive: true });
  await writeFile(join(over, "deep", "added"), "added by the overlay\n");
  chmodSync(join(over, "deep"), 0o750);
  utimesSync(join(over, "deep"), 1_000_000, 1_000_000);
  await writeFile(join(over, "names"), "a file where a directory was\n");
  await mkdir(join(over, "zeros-tail"));
  await writeFile(join(over, "zeros-tail", "inside"), patternBytes(5000, 3));
  await writeFile(join(over, "lost+found"), "not a directory\n");
  await mkdir(join(over, "links"));
  await writeFile(join(over, "links", "one"), patternBytes(3000, 4));
  execFileSync("ln", [join(over, "links", "one"), join(over, "links", "two")]);
  execFileSync("ln", [join(over, "links", "one"), join(over, "deep", "three")]);
  await symlink("x".repeat(200), join(over, "links", "slow-symlink"));
  // 20 MiB: at 1 KiB blocks its contents cross block-group boundaries.
  await writeFile(join(over, "twenty"), patternBytes(20 << 20, 7));
  if (process.getuid?.() === 0) {
    // As root (CI): devices and owners straight from the source directory.
    execFileSync("mknod", [join(over, "null"), "c", "1", "3"]);
    execFileSync("mknod", [join(over, "disk"), "b", "8", "1"]);
    chownSync(join(over, "links", "one"), 1234, 5678);
  }
});

/**
 * Members that exercise the archive's own overlay rules against the
 * directories before it: a directory replaced by a file and back, a parent
 * only implied, an explicit directory after an implied one, a hard link with
 * a body, the root's own metadata, a 255-byte name, a slow symlink, devices.
 */
async function* overlayTar(): AsyncGenerator<Uint8Array> {
  const text = (t: string) => new TextEncoder().encode(t);
  const file = (path: string, body: string, extra: Record<string, number> = {}) => ({
    path,
    type: "file" as const,
    mode: 0o644,
    mtime: 1_500_000_000,
    body: text(body),
    size: text(body).length,
    ...extra,
  });
  yield* writeTar([
    { path: ".", type: "directory", mode: 0o711, uid: 3, gid: 4, mtime: 1_400_000_000 },
    file("deep/d0/in-tar", "merged into the source's directory\n"),
    file("bounds", "a file where the source has a directory\n"),
    { path: "bounds", type: "directory", mode: 0o755, mtime: 1_400_000_000 },
    file("bounds/again", "and then a directory again\n"),
    file("links/one", "replaces the overlay's hard-linked file\n"),
    { path: "many", type: "directory", mode: 0o700, uid: 9, gid: 9, mtime: 1_300_000_000 },
    file("made/up/parents/leaf", "parents only implied\n"),
    { path: "made/up", type: "directory", mode: 0o750, mtime: 1_200_000_000 },
    file("sparse-middle/child", "a directory where the source has a file\n"),
    file("x".repeat(255), "a 255-byte name\n"),
    { path: "t-link", type: "hardlink", linkname: "made/up/parents/leaf" },
    {
      path: "deep/t-link2",
      type: "hardlink",
      linkname: "made/up/parents/leaf",
      size: 5,
      body: text("body!"),
    },
    { path: "slow", type: "symlink", linkname: "y".repeat(300), mtime: 1_100_000_000 },
    { path: "tty", type: "char", mode: 0o620, devmajor: 4, devminor: 1, gid: 5 },
    { path: "zeros-tail", type: "directory", mode: 0o755 },
    file("zeros-tail/from-tar", "merged with the overlay's directory\n"),
    { path: "sparse.bin", type: "file", mode: 0o600, size: 300_000, body: new Uint8Array(300_000) },
  ]);
}

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  const io = memoryIo();
  const code = await main(["mkfs", ...args], io);
  return { code, stderr: io.stderrText() };
}

describe("ext3fs mkfs --writer walk", () => {
  const cases: [string, string[]][] = [
    ["ext3, 1 KiB blocks, 256-byte inodes, 2 threads", ["-b", "1024", "--threads", "2"]],
    [
      "ext2, 2 KiB blocks, 128-byte inodes, no threads",
      ["-t", "ext2", "-b", "2048", "-I", "128", "--threads", "0"],
    ],
    ["ext3, 4 KiB blocks, auto-sized, 1 thread", ["-b", "4096", "--threads", "1"]],
  ];
  for (const [name, options] of cases) {
    it(`gives the tree writer's bytes, e2fsck-clean (${name})`, async () => {
      const images: Buffer[] = [];
      for (const writer of ["tree", "walk"]) {
        const out = join(work, `${writer}.img`);
        await rm(out, { force: true });
        const r = await cli([
          tree,
          over,
          ...options,
          "--seed",
          "walk",
          "--writer",
          writer,
          "-o",
          out,
          "-q",
        ]);
        expect(r.code, r.stderr).toBe(0);
        images.push(readFileSync(out));
      }
      const f = await fsckProblems(join(work, "walk.img"));
      expect(f.problems, f.output).toEqual([]);
      expect(f.exitCode).toBe(0);
      expect(images[1]?.length).toBe(images[0]?.length);
      expect(Buffer.compare(images[0] as Buffer, images[1] as Buffer)).toBe(0);
    });
  }

  it("writes hard links with their final link counts and the overlay's metadata", async () => {
    const out = join(work, "links.img");
    await rm(out, { force: true });
    const r = await cli([tree, over, "--seed", "walk", "--writer", "walk", "-o", out, "-q"]);
    expect(r.code, r.stderr).toBe(0);
    const stat = (path: string) =>
      execFileSync("debugfs", ["-R", `stat ${path}`, out], { encoding: "utf8", stdio: "pipe" });
    expect(stat("/links/one")).toMatch(/Links: 3/);
    expect(stat("/deep")).toMatch(/Mode:\s+0750/);
    expect(stat("/lost+found")).toMatch(/Type: directory\s+Mode:\s+0700/);
    expect(stat("/names")).toMatch(/Type: regular/);
  });

  it("lays tar archives over directories as the tree writer does (files, standard input), e2fsck-clean", async () => {
    const tarPath = join(work, "walk-overlay.tar");
    const chunks: Uint8Array[] = [];
    for await (const c of overlayTar()) chunks.push(c.slice());
    writeFileSync(tarPath, Buffer.concat(chunks));
    for (const [name, sources] of [
      ["directories then a tar", [tree, over, tarPath]],
      ["a tar between directories", [tree, tarPath, over]],
      ["a tar first", [tarPath, tree]],
    ] as const) {
      const images: Buffer[] = [];
      for (const writer of ["tree", "walk"]) {
        const out = join(work, `${writer}.img`);
        await rm(out, { force: true });
        const r = await cli([
          ...sources,
          "-b",
          "1024",
          "--seed",
          "tar",
          "--writer",
          writer,
          "-o",
          out,
          "-q",
        ]);
        expect(r.code, `${name}: ${r.stderr}`).toBe(0);
        images.push(readFileSync(out));
      }
      const f = await fsckProblems(join(work, "walk.img"));
      expect(f.problems, `${name}: ${f.output}`).toEqual([]);
      expect(Buffer.compare(images[0] as Buffer, images[1] as Buffer), name).toBe(0);
    }
    // A tar on standard input: only the walk writer's explicit choice walks it.
    const image = await mkfs([tree, { kind: "tar-stream", stream: overlayTar(), label: "-" }], {
      blocks: 300_000,
      seed: "stdin",
      writer: "walk",
    });
    const piped = join(work, "stdin-walk.img");
    await writeToFile(image.chunks(), piped);
    const viaFile = await mkfs([tree, tarPath], { blocks: 300_000, seed: "stdin", writer: "tree" });
    const filed = join(work, "stdin-tree.img");
    await writeToFile(viaFile.chunks(), filed);
    expect(Buffer.compare(readFileSync(piped), readFileSync(filed))).toBe(0);
  });

  it("switches from the tree to the walk past walkAbove entries, with the same bytes", async () => {
    const logs: string[] = [];
    const images: Buffer[] = [];
    for (const options of [
      { writer: "tree" as const },
      { walkAbove: 100, log: (m: string) => logs.push(m) },
    ]) {
      const image = await mkfs([tree, over], { blocks: 200_000, seed: "auto", ...options });
      const out = join(work, "auto.img");
      await rm(out, { force: true });
      // No target file offered: the walk writer goes through a temporary file.
      await writeToFile(image.chunks(), out);
      images.push(readFileSync(out));
    }
    expect(logs.join("\n")).toMatch(/over 100 entries: walking them one directory at a time/);
    expect(Buffer.compare(images[0] as Buffer, images[1] as Buffer)).toBe(0);
  });

  it("reports a tree that does not fit as the tree writer does, and writes nothing", async () => {
    for (const args of [
      ["--blocks", "20000"],
      ["-N", "600", "--blocks", "300000"],
    ]) {
      const said: string[] = [];
      for (const writer of ["tree", "walk"]) {
        const out = join(work, `small-${writer}.img`);
        const r = await cli([tree, over, ...args, "--writer", writer, "-o", out]);
        expect(r.code).toBe(1);
        expect(existsSync(out)).toBe(false);
        said.push(r.stderr);
      }
      expect(said[1]).toMatch(/^ext3fs: Cannot fit the tree: it needs \d+ (data blocks|inodes)/);
      expect(said[1]).toBe(said[0]);
    }
  });

  it("fails cleanly when a source changes between its two walks", async () => {
    const dir = join(work, "changes");
    await mkdir(dir);
    await writeFile(join(dir, "a"), patternBytes(5000, 1));
    const image = await mkfs([dir], { blocks: 8192, writer: "walk" });
    await writeFile(join(dir, "b"), patternBytes(5000, 2));
    const out = join(work, "changes.img");
    await expect(writeToFile(image.chunks(), out)).rejects.toThrow(
      /Cannot write the filesystem: the sources changed while mkfs ran/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a device table, and a symlink as a source", async () => {
    const table = join(work, "devices.txt");
    writeFileSync(table, "/dev/console c 600 0 0 5 1\n");
    const r = await cli([tree, "-D", table, "--writer", "walk", "-o", join(work, "t.img")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "ext3fs: Cannot use the walk writer here: it needs at least one source, and no device table\n",
    );
    const link = join(work, "tree-link");
    await symlink(tree, link);
    const linked = await cli([link, "--writer", "walk", "-o", join(work, "l.img")]);
    expect(linked.stderr).toBe(
      `ext3fs: Cannot use ${link} as a directory source: not a directory\n`,
    );
    const bad = await cli([tree, "--writer", "fast"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--writer wants auto, tree or walk, got fast/);
  });
});
