import { mkdir, mkdtemp, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeToFile } from "@bigfile/blockdev/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { fsckProblems } from "./_fsck_test_util.ts";
import { computeGeometry, groupHasSuper } from "./geometry.ts";
import { type MkfsOptions, mkfs } from "./mkfs.ts";

let work = "";
let empty = "";
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ext3fs-geo-"));
  empty = join(work, "empty");
  await mkdir(empty);
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const FIELDS = [
  "Block count",
  "Block size",
  "First block",
  "Blocks per group",
  "Inodes per group",
  "Inode count",
  "Inode blocks per group",
  "Inode size",
  "Reserved block count",
  "Reserved GDT blocks",
  "Overhead clusters",
  "Filesystem features",
  "Filesystem flags",
  "Default mount options",
  "Total journal size",
  "Total journal blocks",
  "Journal sequence",
  "Maximum mount count",
  "Required extra isize",
  "Desired extra isize",
  "Default directory hash",
  "Filesystem volume name",
];

async function dumpe2fs(image: string): Promise<Record<string, string>> {
  const r = await execa("dumpe2fs", ["-h", image], { reject: false });
  const out: Record<string, string> = {};
  for (const line of r.stdout.split("\n")) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m && FIELDS.includes(m[1] as string)) out[m[1] as string] = (m[2] as string).trim();
  }
  return out;
}

/**
 * The blocks of the root, the resize inode, the journal and lost+found are
 * the same in both images (`debugfs stat`: block maps or extents), and ours
 * is e2fsck-clean; then both images go.
 */
async function expectSameObjectsAndClean(ours: string, theirs: string): Promise<void> {
  for (const ino of [2, 7, 8, 11]) {
    const blocks = async (img: string) =>
      (await execa("debugfs", ["-R", `stat <${ino}>`, img], { reject: false })).stdout.replace(
        /^[\s\S]*\n(BLOCKS|EXTENTS):/,
        "",
      );
    expect(await blocks(ours), `inode ${ino}`).toBe(await blocks(theirs));
  }
  const f = await fsckProblems(ours);
  expect(f.problems, f.output).toEqual([]);
  expect(f.exitCode).toBe(0);
  await rm(ours);
  await rm(theirs);
}

const cases: [string, string[], MkfsOptions][] = [
  ["2 MiB (floppy class, no journal)", ["-t", "ext3", "img", "2048"], { blocks: 2048 }],
  ["8 MiB ext3", ["-t", "ext3", "img", "8192"], { blocks: 8192 }],
  ["64 MiB ext3", ["-t", "ext3", "img", "65536"], { blocks: 65536 }],
  ["100000 KiB with last-group drop", ["-t", "ext3", "img", "100000"], { blocks: 100000 }],
  [
    "300 MiB ext2, 128-byte inodes, -m 1",
    ["-t", "ext2", "-I", "128", "-m", "1", "img", "307200"],
    { type: "ext2", blocks: 307200, inodeSize: 128, reservedPercent: 1 },
  ],
  ["600 MiB (4 KiB class)", ["-t", "ext3", "img", "614400"], { blocks: 614400 }],
  [
    "64 MiB, -b 4096 -N 5000 -L",
    ["-t", "ext3", "-b", "4096", "-N", "5000", "-L", "lbl", "img", "16384"],
    { blocks: 16384, blockSize: 4096, inodes: 5000, label: "lbl" },
  ],
  [
    "200 MiB, -b 2048 -i 8192",
    ["-t", "ext3", "-b", "2048", "-i", "8192", "img", "102400"],
    { blocks: 102400, blockSize: 2048, bytesPerInode: 8192 },
  ],
  ["the seed: 4040316 KiB", ["-t", "ext3", "img", "4040316"], { blocks: 4040316 }],
];

describe("geometry matches mke2fs", () => {
  it("computes the worked examples", () => {
    const g = computeGeometry({ bytes: 64 * 1024 * 1024 });
    expect([
      g.blockSize,
      g.groupCount,
      g.inodesCount,
      g.journalBlocks,
      g.reservedGdtBlocks,
      g.rBlocksCount,
    ]).toEqual([1024, 8, 16384, 4096, 255, 3276]);
    const h = computeGeometry({ bytes: 1024 * 1024 * 1024 });
    expect([
      h.blockSize,
      h.groupCount,
      h.inodesCount,
      h.journalBlocks,
      h.reservedGdtBlocks,
    ]).toEqual([4096, 8, 65536, 8192, 63]);
    expect([0, 1, 2, 3, 5, 7, 9, 25, 27, 49, 81].map(groupHasSuper)).toEqual([
      true,
      true,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
  });

  it.each(cases)("%s: dumpe2fs -h agrees with mke2fs", async (_name, mke2fsArgs, options) => {
    if (!(await haveTool("mke2fs", "e2fsprogs"))) return;
    const theirs = join(work, "theirs.img");
    await rm(theirs, { force: true });
    const args = mke2fsArgs.map((a) => (a === "img" ? theirs : a));
    await writeFile(theirs, "");
    const size = Number(args[args.length - 1]) * (options.blockSize ?? 1024);
    await truncate(theirs, size);
    const m = await execa("mke2fs", ["-q", "-F", ...args], {
      reject: false,
      env: { MKE2FS_CONFIG: "/etc/mke2fs.conf" },
    });
    expect(m.exitCode, m.stderr).toBe(0);
    const ours = join(work, "ours.img");
    const image = await mkfs([empty], { ...options, seed: "geometry" });
    await writeToFile(image.chunks(), ours);
    const a = await dumpe2fs(theirs);
    const b = await dumpe2fs(ours);
    expect(Object.keys(a).length).toBeGreaterThan(15);
    expect(b).toEqual(a);
    expect((await stat(ours)).size).toBe(image.size);
    // For an empty tree the whole layout is mke2fs's: every group's metadata,
    // free ranges and counts, and the blocks of the root, resize inode,
    // journal and lost+found.
    const full = async (img: string) =>
      (await execa("dumpe2fs", [img], { reject: false })).stdout
        .split("\n")
        .filter((l) => !/UUID|time|created|checked|Hash Seed|Journal checksum/.test(l));
    expect(await full(ours)).toEqual(await full(theirs));
    await expectSameObjectsAndClean(ours, theirs);
  });

  it("--blocks 4040316 gives exactly 4137283584 bytes", async () => {
    const image = await mkfs([empty], { blocks: 4040316, seed: "seed" });
    expect(image.size).toBe(4137283584);
    image.dispose();
  });
});

/**
 * ext4: for an empty tree the whole layout is mke2fs -t ext4's, for the same
 * size, UUID and hash seed: flex_bg's packed bitmaps and inode tables, the
 * journal near the middle, the resize inode's block, 64-byte descriptors,
 * and with metadata_csum every descriptor's, bitmap's and flag's checksum
 * (all of dumpe2fs but times and the superblock's own checksum, which covers
 * them).
 */
const ext4Cases: [string, string[], MkfsOptions][] = [
  ["2 MiB ext4 (one group)", [], { blocks: 2048 }],
  ["64 MiB ext4", [], { blocks: 65536 }],
  [
    "64 MiB ext4 -O ^metadata_csum,^64bit",
    ["-O", "^metadata_csum,^64bit"],
    { blocks: 65536, features: "^metadata_csum,^64bit" },
  ],
  ["64 MiB ext4 -O ^flex_bg", ["-O", "^flex_bg"], { blocks: 65536, features: "^flex_bg" }],
  [
    "64 MiB ext4 -O ^has_journal,^resize_inode",
    ["-O", "^has_journal,^resize_inode"],
    { blocks: 65536, features: "^has_journal,^resize_inode" },
  ],
  ["100000 KiB ext4 with last-group drop", [], { blocks: 100000 }],
  [
    "300 MiB ext4, 128-byte inodes, -m 1",
    ["-I", "128", "-m", "1"],
    { blocks: 307200, inodeSize: 128, reservedPercent: 1 },
  ],
  [
    "1 GiB ext4 at 1 KiB blocks (128 groups, 8 flex groups)",
    ["-b", "1024"],
    { blocks: 1048576, blockSize: 1024 },
  ],
  [
    "6 MiB ext4 at 4 KiB blocks (no journal, no reserved GDT blocks)",
    ["-b", "4096"],
    { blocks: 1536, blockSize: 4096 },
  ],
  [
    "64 MiB ext4, -b 4096 -N 5000 -L",
    ["-b", "4096", "-N", "5000", "-L", "lbl"],
    { blocks: 16384, blockSize: 4096, inodes: 5000, label: "lbl" },
  ],
  ["the seed's 4040316 KiB as ext4", [], { blocks: 4040316 }],
  // Feature edits mke2fs accepts, on every type.
  [
    "64 MiB ext4 -O ^extent,^64bit (block maps, flex_bg, metadata_csum)",
    ["-O", "^extent,^64bit"],
    { blocks: 65536, features: "^extent,^64bit" },
  ],
  ["64 MiB ext3 -O extent", ["-O", "extent"], { type: "ext3", blocks: 65536, features: "extent" }],
  [
    "64 MiB ext2 -O flex_bg",
    ["-O", "flex_bg"],
    { type: "ext2", blocks: 65536, features: "flex_bg" },
  ],
  [
    "64 MiB ext2 -O ^resize_inode,^dir_index",
    ["-O", "^resize_inode,^dir_index"],
    { type: "ext2", blocks: 65536, features: "^resize_inode,^dir_index" },
  ],
  [
    "64 MiB ext4 -O ^huge_file,^dir_nlink,^extra_isize",
    ["-O", "^huge_file,^dir_nlink,^extra_isize"],
    { blocks: 65536, features: "^huge_file,^dir_nlink,^extra_isize" },
  ],
  [
    "64 MiB ext4 -O uninit_bg (metadata_csum supersedes it)",
    ["-O", "uninit_bg"],
    { blocks: 65536, features: "uninit_bg" },
  ],
  [
    "64 MiB ext4 -O ^64bit,^flex_bg,^metadata_csum",
    ["-O", "^64bit,^flex_bg,^metadata_csum"],
    { blocks: 65536, features: "^64bit,^flex_bg,^metadata_csum" },
  ],
  [
    "16 GiB ext4 (128 groups of 4 KiB blocks)",
    ["-b", "4096"],
    { blocks: 4194304, blockSize: 4096 },
  ],
];

describe("ext4 (and -O edits) geometry and layout match mke2fs", () => {
  it.each(ext4Cases)(
    "%s: the whole dumpe2fs output agrees",
    async (_name, mke2fsArgs, options) => {
      if (!(await haveTool("mke2fs", "e2fsprogs"))) return;
      const ours = join(work, "ours4.img");
      const image = await mkfs([empty], { type: "ext4", ...options, seed: "geometry4" });
      await writeToFile(image.chunks(), ours);
      const sb = (await execa("dumpe2fs", ["-h", ours], { reject: false })).stdout;
      const uuid = /^Filesystem UUID:\s+(\S+)/m.exec(sb)?.[1] as string;
      const hashSeed = /^Directory Hash Seed:\s+(\S+)/m.exec(sb)?.[1] as string;
      const theirs = join(work, "theirs4.img");
      await rm(theirs, { force: true });
      await writeFile(theirs, "");
      await truncate(theirs, image.size);
      // Counted as mke2fs counts: in blocks with -b, else in KiB.
      const blocks = `${image.size / (options.blockSize ?? 1024)}`;
      const m = await execa(
        "mke2fs",
        [
          "-q",
          "-F",
          "-t",
          options.type ?? "ext4",
          ...mke2fsArgs,
          "-U",
          uuid,
          "-E",
          `hash_seed=${hashSeed}`,
          theirs,
          blocks,
        ],
        { reject: false, env: { MKE2FS_CONFIG: "/etc/mke2fs.conf" } },
      );
      expect(m.exitCode, m.stderr).toBe(0);
      const full = async (img: string) =>
        (await execa("dumpe2fs", [img], { reject: false })).stdout
          .split("\n")
          .filter((l) => !/time|created|checked|^Checksum:/.test(l));
      const a = await full(theirs);
      expect(a.length).toBeGreaterThan(40);
      expect(await full(ours)).toEqual(a);
      await expectSameObjectsAndClean(ours, theirs);
    },
    120_000,
  );
});
