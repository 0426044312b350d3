import { open } from "node:fs/promises";
import { join } from "node:path";
import { FileDevice } from "@bigfile/blockdev/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTools } from "../../../../test/harness/tools.ts";
import { debugfs, makeTree, mkfsFromTree, scratch } from "./_fixtures_test_util.ts";
import { describeImage, describeSource, expectSameTree } from "./_tree_test_util.ts";
import { checkFilesystem } from "./check_filesystem.ts";
import { FilesystemReader } from "./filesystem_reader.ts";

async function check(image: string) {
  const device = await FileDevice.open(image, { readOnly: true });
  try {
    return await checkFilesystem(await FilesystemReader.open(device));
  } finally {
    await device.close();
  }
}

async function e2fsckClean(image: string): Promise<boolean> {
  const result = await execa("e2fsck", ["-fn", image], { reject: false });
  return result.exitCode === 0;
}

/** The physical block of file block 0 of `path`, as debugfs sees it. */
async function firstBlock(image: string, path: string): Promise<number> {
  const out = await debugfs(image, `bmap ${path} 0`);
  const n = Number(out.stdout.trim());
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`debugfs bmap failed: ${out.stdout} ${out.stderr}`);
  return n;
}

async function poke(image: string, offset: number, bytes: number[]): Promise<void> {
  const handle = await open(image, "r+");
  try {
    await handle.write(new Uint8Array(bytes), 0, bytes.length, offset);
  } finally {
    await handle.close();
  }
}

const canRun = haveTools(["mke2fs", "debugfs", "e2fsck"]);

describe.skipIf(!canRun)("checkFilesystem", () => {
  const tmp = scratch();
  const tree = join(tmp.dir, "tree");
  beforeAll(() => makeTree(tree));
  afterAll(() => tmp.cleanup());

  const kinds = [
    { type: "ext2", blockSize: 1024 },
    { type: "ext3", blockSize: 1024 },
    { type: "ext3", blockSize: 4096 },
    { type: "ext4", blockSize: 1024 },
    { type: "ext4", blockSize: 4096 },
  ] as const;

  for (const kind of kinds) {
    it(`passes a clean ${kind.type} image with ${kind.blockSize}-byte blocks (as e2fsck does)`, async () => {
      const image = join(tmp.dir, `clean-${kind.type}-${kind.blockSize}.img`);
      await mkfsFromTree(image, tree, { ...kind, size: "24M" });
      expect(await e2fsckClean(image)).toBe(true);
      const report = await check(image);
      expect(report.findings).toEqual([]);
      expect(report.clean).toBe(true);
      expect(report.directories).toBeGreaterThan(5);
    });
  }

  const variants: {
    name: string;
    type: "ext2" | "ext3" | "ext4";
    blockSize: number;
    extra: string[];
  }[] = [
    {
      name: "meta_bg without resize_inode",
      type: "ext3",
      blockSize: 1024,
      extra: ["-O", "meta_bg,^resize_inode"],
    },
    { name: "sparse_super2", type: "ext4", blockSize: 1024, extra: ["-O", "sparse_super2"] },
    { name: "revision 0", type: "ext2", blockSize: 1024, extra: ["-r", "0"] },
    {
      name: "2048-byte blocks, 128-byte inodes",
      type: "ext3",
      blockSize: 2048,
      extra: ["-I", "128"],
    },
    {
      name: "no flex_bg, no resize_inode",
      type: "ext4",
      blockSize: 1024,
      extra: ["-O", "^flex_bg,^resize_inode"],
    },
    {
      name: "uninit_bg without metadata_csum",
      type: "ext4",
      blockSize: 1024,
      extra: ["-O", "^metadata_csum,uninit_bg"],
    },
    {
      name: "no sparse_super",
      type: "ext2",
      blockSize: 1024,
      extra: ["-O", "^sparse_super,^resize_inode"],
    },
  ];
  for (const variant of variants) {
    it(`reads and passes ${variant.type} with ${variant.name}, hash-indexed by e2fsck -D`, async () => {
      const image = join(tmp.dir, `variant-${variants.indexOf(variant)}.img`);
      await mkfsFromTree(image, tree, { ...variant, size: "24M" });
      // e2fsck -D indexes directories (htree): the reader must still see every entry.
      await execa("e2fsck", ["-fyD", image], { reject: false });
      expect(await e2fsckClean(image)).toBe(true);
      expect((await check(image)).findings).toEqual([]);
      const device = await FileDevice.open(image, { readOnly: true });
      try {
        const fs = await FilesystemReader.open(device);
        const facts = await describeImage(fs);
        facts.delete("/lost+found");
        expectSameTree(facts, describeSource(tree));
      } finally {
        await device.close();
      }
    });
  }

  for (const features of ["quota", "quota,project", "orphan_file"]) {
    it(`passes an empty ext4 with ${features} (system inodes own blocks but no names)`, async () => {
      const image = join(tmp.dir, `system-${features}.img`);
      const made = await execa(
        "mke2fs",
        ["-q", "-F", "-t", "ext4", "-I", "256", "-O", features, image, "16M"],
        { reject: false },
      );
      expect(made.exitCode).toBe(0);
      expect(await e2fsckClean(image)).toBe(true);
      expect((await check(image)).findings).toEqual([]);
    });
  }

  it("verifies metadata_csum checksums (superblock, descriptors, bitmaps, inodes) as e2fsck does", async () => {
    const image = join(tmp.dir, "csum.img");
    await mkfsFromTree(image, tree, { type: "ext4", blockSize: 4096, size: "24M" });
    expect((await check(image)).findings).toEqual([]);
    // One byte of /etc/hostname's inode (its atime) without fixing the checksum.
    const device = await FileDevice.open(image);
    const fs = await FilesystemReader.open(device);
    const inode = await fs.inode((await fs.lstat("/etc/hostname")).ino);
    const gdt = fs.groups[0]?.offset ?? 0;
    await device.close();
    await poke(image, inode.offset + 8, [0x5a]);
    expect(await e2fsckClean(image)).toBe(false);
    expect((await check(image)).findings.map((f) => f.code)).toEqual(["inode-checksum"]);
    // A byte of group 0's descriptor that nothing else reads (bg_exclude_bitmap).
    await poke(image, gdt + 20, [0x01]);
    expect((await check(image)).findings.map((f) => f.code)).toContain("group-checksum");
    // A reserved byte of the superblock.
    await poke(image, 1024 + 0x300, [0x01]);
    expect((await check(image)).findings.map((f) => f.code)).toContain("superblock-checksum");
  });

  const faults: {
    name: string;
    code: string;
    plant: (image: string, bs: number) => Promise<void>;
    e2fsck?: boolean;
  }[] = [
    {
      name: "a wrong superblock free block count",
      code: "free-blocks-count",
      plant: async (image) => {
        expect((await debugfs(image, "ssv free_blocks_count 123", true)).exitCode).toBe(0);
      },
      e2fsck: false, // e2fsck -n reports it but does not count it as an error (PR_NO_OK)
    },
    {
      name: "a wrong group free inode count",
      code: "free-inodes-count",
      plant: async (image) => {
        expect((await debugfs(image, "set_bg 0 free_inodes_count 7", true)).exitCode).toBe(0);
      },
    },
    {
      name: "a used block's bitmap bit cleared",
      code: "block-bitmap",
      plant: async (image) => {
        const block = await firstBlock(image, "/boot/vmlinuz-6.1");
        expect((await debugfs(image, `freeb ${block}`, true)).exitCode).toBe(0);
      },
    },
    {
      name: "a block owned by two files",
      code: "doubly-owned-block",
      plant: async (image) => {
        const block = await firstBlock(image, "/boot/vmlinuz-6.1");
        expect((await debugfs(image, `sif /etc/hostname block[0] ${block}`, true)).exitCode).toBe(
          0,
        );
      },
    },
    {
      name: "a wrong link count",
      code: "link-count",
      plant: async (image) => {
        expect(
          (await debugfs(image, "sif /etc/deep/er/still/medium links_count 5", true)).exitCode,
        ).toBe(0);
      },
    },
    {
      name: "a bad directory entry rec_len",
      code: "directory-block",
      plant: async (image, bs) => {
        const block = await firstBlock(image, "/etc/deep");
        // The second entry ("..") gets a rec_len that is not a multiple of 4.
        await poke(image, block * bs + 12 + 4, [13, 0]);
      },
    },
    {
      name: "a journal that needs recovery",
      code: "journal-recovery",
      plant: async (image) => {
        expect((await debugfs(image, "feature needs_recovery", true)).exitCode).toBe(0);
      },
      e2fsck: false,
    },
  ];

  for (const kind of [
    { type: "ext3", blockSize: 1024 },
    { type: "ext3", blockSize: 4096 },
  ] as const) {
    for (const fault of faults) {
      it(`finds ${fault.name} (${kind.type}, ${kind.blockSize})`, async () => {
        const image = join(tmp.dir, `fault-${kind.blockSize}-${fault.code}.img`);
        await mkfsFromTree(image, tree, { ...kind, size: "24M" });
        await fault.plant(image, kind.blockSize);
        // e2fsck's exit status decides: what it only reports is a note, not an error.
        const theirs = await e2fsckClean(image);
        expect(theirs).toBe(fault.e2fsck === false);
        const report = await check(image);
        expect(report.clean).toBe(theirs);
        const finding = report.findings.find((f) => f.code === fault.code);
        expect(finding?.severity).toBe(theirs ? "note" : "error");
      });
    }
  }
});
