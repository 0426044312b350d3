// A corpus of damaged and unusual ext2/3/4 images, made with e2fsprogs' own
// tools (mke2fs, e2fsck -D, debugfs, tune2fs) and then damaged
// deterministically: one targeted edit per image (debugfs set_inode_field,
// set_super_value, set_bg, zap_block, or a poke at a structure's field), and
// seeded byte flips in the metadata. e2fsck -fn is the judge; the tests ask
// `ext3fs check` to agree with it.
import {
  closeSync,
  copyFileSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { FileDevice } from "@bigfile/blockdev/node";
import { execa } from "execa";
import { FilesystemReader } from "./filesystem_reader.ts";

/** One image of the corpus. */
export interface CorpusImage {
  name: string;
  path: string;
  /** What was done to it ("valid: ..." for images that should be clean). */
  what: string;
}

/** A deterministic xorshift generator, so an image can be rebuilt from its seed. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  const random = rng(seed);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** The source tree every base image holds. */
export function makeCorpusTree(root: string): void {
  mkdirSync(join(root, "etc", "sub"), { recursive: true });
  mkdirSync(join(root, "big"));
  mkdirSync(join(root, "boot"));
  writeFileSync(join(root, "etc", "hostname"), "corpus\n");
  writeFileSync(join(root, "etc", "sub", "medium"), bytes(20_000, 1));
  writeFileSync(join(root, "boot", "vmlinuz-1"), bytes(300_000, 2));
  symlinkSync("vmlinuz-1", join(root, "boot", "vmlinuz"));
  symlinkSync(`/etc/${"l".repeat(70)}`, join(root, "long"));
  for (let i = 0; i < 150; i++)
    writeFileSync(join(root, "big", `entry-number-${i}-${"n".repeat(i % 30)}`), `${i}\n`);
  // Ten separate pieces: more extents than an inode holds, so an extent tree block.
  const fd = openSync(join(root, "fragments"), "w");
  for (let i = 0; i < 10; i++) writeSync(fd, bytes(4096, 10 + i), 0, 4096, i * 65536);
  closeSync(fd);
  // Fixed times: the same tree gives the same image bytes every run.
  const stamp = (path: string) => {
    for (const name of readdirSync(path)) {
      const child = join(path, name);
      if (lstatSync(child).isDirectory()) stamp(child);
      lutimesSync(child, 1_700_000_000, 1_700_000_000);
    }
  };
  stamp(root);
  lutimesSync(root, 1_700_000_000, 1_700_000_000);
}

async function tool(file: string, args: string[], input?: string): Promise<string> {
  const result = await execa(file, args, {
    reject: false,
    // A fixed clock: with a fixed UUID and hash seed, the same bytes every run.
    env: { MKE2FS_CONFIG: "/etc/mke2fs.conf", E2FSPROGS_FAKE_TIME: "1700000000" },
    ...(input === undefined ? {} : { input }),
  });
  if (file !== "e2fsck" && result.exitCode !== 0)
    throw new Error(`${file} ${args.join(" ")}: ${result.stderr}`);
  return String(result.stdout);
}

/** debugfs -w with requests, one a line. */
export async function debugfsWrite(image: string, requests: string[]): Promise<void> {
  await tool("debugfs", ["-w", "-f", "-", image], `${requests.join("\n")}\n`);
}

function poke(image: string, offset: number, data: Uint8Array): void {
  const fd = openSync(image, "r+");
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

function le(value: number, width: 1 | 2 | 4): Uint8Array {
  const out = new Uint8Array(width);
  for (let i = 0; i < width; i++) out[i] = (value >>> (8 * i)) & 0xff;
  return out;
}

async function withReader<T>(
  image: string,
  work: (fs: FilesystemReader) => Promise<T>,
): Promise<T> {
  const device = await FileDevice.open(image, { readOnly: true });
  try {
    return await work(
      await FilesystemReader.open(device, { replayJournal: false, allowInlineData: true }),
    );
  } finally {
    await device.close();
  }
}

/** The physical blocks of a file's data, and its map blocks. */
async function blocksOf(
  image: string,
  path: string,
): Promise<{ data: number[]; meta: number[]; offset: number }> {
  return withReader(image, async (fs) => {
    const inode = await fs.inode(await fs.lookup(path, { follow: false }));
    const data: number[] = [];
    const meta: number[] = [];
    for await (const run of fs.runs(inode, undefined, (b) => meta.push(b)))
      for (let i = 0; i < run.length; i++) data.push(run.physical + i);
    return { data, meta, offset: inode.offset };
  });
}

interface Base {
  name: string;
  path: string;
  blockSize: number;
}

async function makeBase(
  dir: string,
  tree: string,
  name: string,
  mkfs: string[],
  size: string,
  index = true,
): Promise<Base> {
  const path = join(dir, `base-${name}.img`);
  await tool("mke2fs", [
    "-q",
    "-F",
    "-U",
    "6b1e5f2c-3d4a-4c8e-9f10-112233445566",
    "-E",
    "root_owner=0:0,hash_seed=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    ...mkfs,
    "-d",
    tree,
    path,
    size,
  ]);
  // Index the large directory as the kernel would (htree), then check it is clean.
  if (index) await tool("e2fsck", ["-fyD", path]);
  const blockSize = await withReader(path, async (fs) => fs.blockSize);
  return { name, path, blockSize };
}

/** A targeted edit: debugfs requests, or a function given the image path. */
interface Damage {
  name: string;
  what: string;
  base: string;
  debugfs?: string[];
  edit?: (image: string, base: Base) => Promise<void>;
}

/** Makes the targeted part of the corpus in `dir`. */
export async function buildTargetedCorpus(dir: string): Promise<CorpusImage[]> {
  const tree = join(dir, "tree");
  makeCorpusTree(tree);
  const bases = new Map<string, Base>();
  const add = async (name: string, mkfs: string[], size: string, index = true) =>
    bases.set(name, await makeBase(dir, tree, name, mkfs, size, index));
  await add("ext2", ["-t", "ext2", "-b", "1024"], "4M");
  await add("ext3", ["-t", "ext3", "-b", "1024"], "8M");
  await add("ext4", ["-t", "ext4", "-b", "4096"], "16M");
  await add("ext4-1k", ["-t", "ext4", "-b", "1024", "-I", "128"], "8M");
  await add("ext4-nocsum", ["-t", "ext4", "-b", "1024", "-O", "^metadata_csum,uninit_bg"], "8M");
  await add("ext4-32bit", ["-t", "ext4", "-b", "1024", "-O", "^64bit"], "8M");
  await add("ext4-quota", ["-t", "ext4", "-b", "1024", "-O", "quota"], "8M");
  await add("ext4-eainode", ["-t", "ext4", "-b", "1024", "-O", "ea_inode"], "8M");
  await add("hurd", ["-t", "ext2", "-b", "1024", "-o", "hurd"], "4M");
  // inline_data: the reader refuses it by name, check still checks what it can.
  await add("ext4-inline", ["-t", "ext4", "-b", "1024", "-O", "inline_data"], "8M");
  // Eight inodes a group: the reserved inodes reach into group 1.
  await add(
    "ext4-tiny-groups",
    ["-t", "ext4", "-b", "1024", "-O", "^64bit,^resize_inode", "-N", "200", "-g", "256"],
    "8M",
  );

  // A directory of 4000 names: a two-level htree (the root, index nodes, leaves).
  const deepTree = join(dir, "deep-tree");
  mkdirSync(join(deepTree, "huge"), { recursive: true });
  for (let i = 0; i < 4000; i++)
    writeFileSync(join(deepTree, "huge", `name-${i}-${"d".repeat(36)}`), "");
  bases.set(
    "ext3-deep",
    await makeBase(dir, deepTree, "ext3-deep", ["-t", "ext3", "-b", "1024", "-N", "4200"], "8M"),
  );
  /** Pokes `data` at `offset` in the first index node (the block of the root's first entry). */
  const htreeNode = async (image: string, offset: number, data: Uint8Array) => {
    const { data: blocks } = await blocksOf(image, "/huge");
    const at = (blocks[0] as number) * 1024;
    const root = readFileSync(image).subarray(at, at + 1024);
    const first =
      new DataView(root.buffer, root.byteOffset, 1024).getUint32(32 + 4, true) & 0x0fffffff;
    poke(image, (blocks[first] as number) * 1024 + offset, data);
  };
  const htreeRoot = async (image: string, offset: number, data: Uint8Array) => {
    const { data: blocks } = await blocksOf(image, "/big");
    const bs = await withReader(image, async (fs) => fs.blockSize);
    poke(image, (blocks[0] as number) * bs + offset, data);
  };
  const damages: Damage[] = [
    // Valid filesystems e2fsck calls clean.
    ...[...bases.keys()].map((base) => ({ name: `${base}-valid`, what: "valid: as made", base })),
    {
      name: "ext4-eainode-xattr",
      what: "valid: an extended attribute stored in its own inode (ea_inode)",
      base: "ext4-eainode",
      edit: async (image) => {
        writeFileSync(`${image}.value`, bytes(6000, 99));
        await debugfsWrite(image, [`ea_set -f ${image}.value /etc/hostname user.big`]);
        // debugfs leaves the owner's i_blocks without the value inode's blocks; e2fsck sets it.
        await tool("e2fsck", ["-fy", image]);
      },
    },
    {
      name: "ext4-shared-blocks",
      what: "valid: two files share blocks under the shared_blocks feature",
      base: "ext4-nocsum",
      edit: async (image) => {
        const medium = await blocksOf(image, "/etc/sub/medium");
        const host = await blocksOf(image, "/etc/hostname");
        const raw = readFileSync(image).subarray(medium.offset, medium.offset + 128);
        poke(image, host.offset + 4, raw.subarray(4, 8));
        poke(image, host.offset + 28, raw.subarray(28, 32));
        poke(image, host.offset + 40, raw.subarray(40, 100));
        // The file's own block is free now; its new blocks are /etc/sub/medium's.
        await debugfsWrite(image, [`freeb ${host.data[0]}`, "feature shared_blocks"]);
        // Free counts as e2fsck keeps them (it leaves the sharing alone under the feature).
        await tool("e2fsck", ["-fy", image]);
      },
    },
    {
      name: "ext3-journal-replay",
      what: "valid: a committed transaction in the journal (e2fsck would replay it)",
      base: "ext3",
      edit: async (image) => {
        const { data } = await blocksOf(image, "/etc/hostname");
        writeFileSync(`${image}.block`, new Uint8Array(1024).fill(0x41));
        await debugfsWrite(image, ["jo", `jw -b ${data[0]} ${image}.block`, "jc"]);
      },
    },
    {
      name: "ext3-unclean",
      what: "valid: not cleanly unmounted (state 0), nothing else",
      base: "ext3",
      debugfs: ["ssv state 0"],
    },
    {
      name: "ext4-inline-links",
      what: "a link count on an inline_data filesystem",
      base: "ext4-inline",
      debugfs: ["sif /etc links_count 7"],
    },
    {
      name: "ext4-inline-dtime",
      what: "a deletion time on an inline_data filesystem",
      base: "ext4-inline",
      debugfs: ["sif /etc/hostname dtime 5"],
    },
    // Superblock and groups.
    {
      name: "ext3-free-blocks",
      what: "superblock free blocks count",
      base: "ext3",
      debugfs: ["ssv free_blocks_count 17"],
    },
    {
      name: "ext4-32bit-free-inodes",
      what: "group free inodes count",
      base: "ext4-32bit",
      debugfs: ["set_bg 0 free_inodes_count 3", "set_bg 0 checksum calc"],
    },
    {
      name: "ext4-sb-csum",
      what: "superblock checksum",
      base: "ext4",
      edit: async (image) => poke(image, 1024 + 1020, le(0x12345678, 4)),
    },
    {
      name: "ext4-gd-csum",
      what: "group descriptor checksum",
      base: "ext4",
      debugfs: ["set_bg 0 checksum 0x1234"],
    },
    {
      name: "ext4-bitmap-csum",
      what: "block bitmap checksum",
      base: "ext4",
      debugfs: ["set_bg 0 block_bitmap_csum 0x1234", "set_bg 0 checksum calc"],
    },
    // Inodes.
    {
      name: "ext4-inode-csum",
      what: "inode checksum",
      base: "ext4",
      debugfs: ["sif /etc/hostname checksum 0x1234"],
    },
    {
      name: "ext4-1k-inode-csum",
      what: "inode checksum (128-byte inodes)",
      base: "ext4-1k",
      debugfs: ["sif /etc/hostname checksum 0x1234"],
    },
    {
      name: "ext3-eofblocks",
      what: "a size below the last block (EOFBLOCKS)",
      base: "ext3",
      debugfs: ["sif /boot/vmlinuz-1 size 100"],
    },
    {
      name: "ext4-eofblocks",
      what: "a size below the last block (EOFBLOCKS)",
      base: "ext4",
      debugfs: ["sif /etc/sub/medium size 10"],
    },
    {
      name: "ext4-zero-extent",
      what: "a zero-length extent",
      base: "ext4",
      debugfs: ["sif /etc/sub/medium block[4] 0"],
    },
    {
      name: "ext4-interior-start",
      what: "an index entry's start differs from its child's",
      base: "ext4",
      debugfs: ["sif /fragments block[3] 1"],
    },
    {
      name: "ext4-inline-flag",
      what: "inline_data flag without the feature",
      base: "ext4",
      debugfs: ["sif /etc/hostname flags 0x10000000"],
    },
    {
      name: "ext3-i-blocks",
      what: "i_blocks",
      base: "ext3",
      debugfs: ["sif /etc/hostname blocks 10"],
    },
    {
      name: "ext3-dtime",
      what: "a deletion time on a used inode",
      base: "ext3",
      debugfs: ["sif /etc/hostname dtime 12345"],
    },
    {
      name: "ext3-links",
      what: "a link count",
      base: "ext3",
      debugfs: ["sif /etc/hostname links_count 5"],
    },
    {
      name: "ext3-badblocks-inode",
      what: "bad-blocks inode pointing outside",
      base: "ext3",
      debugfs: ["sif <1> block[0] 99999999"],
    },
    {
      name: "ext3-badblocks-size",
      what: "bad-blocks inode with blocks but inconsistent",
      base: "ext3",
      debugfs: ["sif <1> mode 0100644"],
    },
    {
      name: "ext3-reserved-inode",
      what: "reserved inode 5 with a mode",
      base: "ext3",
      debugfs: ["sif <5> mode 0100644"],
    },
    {
      name: "ext3-fast-symlink",
      what: "a fast symlink's size",
      base: "ext3",
      debugfs: ["sif /boot/vmlinuz size 40"],
    },
    // Directories and htree.
    {
      name: "ext3-htree-hash-version",
      what: "htree root: bad hash version",
      base: "ext3",
      edit: (image) => htreeRoot(image, 28, le(9, 1)),
    },
    {
      name: "ext3-htree-info-length",
      what: "htree root: bad info length",
      base: "ext3",
      edit: (image) => htreeRoot(image, 29, le(12, 1)),
    },
    {
      name: "ext3-htree-levels",
      what: "htree root: too many levels",
      base: "ext3",
      edit: (image) => htreeRoot(image, 30, le(7, 1)),
    },
    {
      name: "ext3-htree-limit",
      what: "htree root: bad limit",
      base: "ext3",
      edit: (image) => htreeRoot(image, 32, le(7, 2)),
    },
    {
      name: "ext3-htree-count",
      what: "htree root: count over limit",
      base: "ext3",
      edit: (image) => htreeRoot(image, 34, le(500, 2)),
    },
    {
      name: "ext3-htree-order",
      what: "htree root: hashes out of order",
      base: "ext3",
      edit: (image) => htreeRoot(image, 48, le(0x10, 4)),
    },
    {
      name: "ext3-htree-block",
      what: "htree root: an entry names the wrong leaf",
      base: "ext3",
      edit: (image) => htreeRoot(image, 44, le(1, 4)),
    },
    {
      name: "ext3-htree-node-limit",
      what: "htree index node: bad limit",
      base: "ext3-deep",
      edit: (image) => htreeNode(image, 8, le(3, 2)),
    },
    {
      name: "ext3-htree-node-count",
      what: "htree index node: count over limit",
      base: "ext3-deep",
      edit: (image) => htreeNode(image, 10, le(300, 2)),
    },
    {
      name: "ext3-htree-node-order",
      what: "htree index node: hashes out of order",
      base: "ext3-deep",
      edit: (image) => htreeNode(image, 24, le(0x20, 4)),
    },
    {
      name: "ext4-htree-order",
      what: "htree root: hashes out of order (metadata_csum)",
      base: "ext4-nocsum",
      edit: (image) => htreeRoot(image, 48, le(0x10, 4)),
    },
    {
      name: "ext4-htree-csum",
      what: "htree root: its tail checksum",
      base: "ext4-1k",
      edit: async (image) => {
        const { data } = await blocksOf(image, "/big");
        const bs = 1024;
        const raw = readFileSync(image).subarray(
          (data[0] as number) * bs,
          ((data[0] as number) + 1) * bs,
        );
        const limit = raw[32] as number | 0;
        poke(image, (data[0] as number) * bs + 32 + limit * 8 + 4, le(0xdeadbeef, 4));
      },
    },
    {
      name: "ext4-dirleaf-csum",
      what: "a directory leaf's tail checksum",
      base: "ext4-1k",
      edit: async (image) => {
        const { data } = await blocksOf(image, "/etc");
        poke(image, (data[0] as number) * 1024 + 1020, le(0xdeadbeef, 4));
      },
    },
    {
      name: "ext4-extent-csum",
      what: "an extent tree block's checksum",
      base: "ext4",
      edit: async (image) => {
        const { meta } = await blocksOf(image, "/fragments");
        poke(image, (meta[0] as number) * 4096 + 12 + 10 * 12, le(0xdeadbeef, 4));
      },
    },
    {
      name: "ext4-xattr-csum",
      what: "an xattr block's checksum",
      base: "ext4-1k",
      edit: async (image) => {
        writeFileSync(`${image}.value`, bytes(700, 5));
        await debugfsWrite(image, [`ea_set -f ${image}.value /etc/hostname user.blocky`]);
        const block = await withReader(
          image,
          async (fs) => (await fs.inode(await fs.lookup("/etc/hostname"))).fileAcl,
        );
        poke(image, block * 1024 + 16, le(0xdeadbeef, 4));
      },
    },
    {
      name: "ext3-dir-reclen",
      what: "a directory entry's rec_len",
      base: "ext3",
      debugfs: ["zap_block -f /etc -o 30 -l 1 -p 3 0"],
    },
    {
      name: "ext3-dir-filetype",
      what: "a directory entry's file type",
      base: "ext3",
      edit: async (image) => {
        const at = await withReader(
          image,
          async (fs) =>
            (await fs.dirEntries(await fs.lookup("/etc"))).find((e) => e.name === "hostname")
              ?.offset as number,
        );
        poke(image, at + 7, le(2, 1));
      },
    },
    // Journal.
    {
      name: "ext3-journal-blocksize",
      what: "journal superblock block size",
      base: "ext3",
      debugfs: ["zap_block -f <8> -o 12 -l 1 -p 8 0"],
    },
    {
      name: "ext3-journal-maxlen",
      what: "journal superblock length",
      base: "ext3",
      debugfs: ["zap_block -f <8> -o 16 -l 1 -p 127 0"],
    },
    {
      name: "ext3-journal-first",
      what: "journal superblock first block",
      base: "ext3",
      debugfs: ["zap_block -f <8> -o 20 -l 4 -p 0 0"],
    },
    {
      name: "ext3-journal-magic",
      what: "journal superblock magic",
      base: "ext3",
      debugfs: ["zap_block -f <8> -o 0 -l 1 -p 0 0"],
    },
    {
      name: "ext3-journal-users",
      what: "journal superblock user count",
      base: "ext3",
      debugfs: ["zap_block -f <8> -o 0x43 -l 1 -p 3 0"],
    },
    {
      name: "ext4-journal-csum",
      what: "journal superblock checksum",
      base: "ext4",
      debugfs: ["zap_block -f <8> -o 0xfc -l 1 -p 1 0"],
    },
    // Quota.
    {
      name: "ext4-quota-usage",
      what: "quota usage out of date (a file's owner changed)",
      base: "ext4-quota",
      debugfs: ["sif /etc/hostname uid 4242"],
    },
    {
      name: "ext4-quota-inode",
      what: "quota inode with a bad mode",
      base: "ext4-quota",
      debugfs: ["sif <3> mode 0"],
    },
  ];
  const out: CorpusImage[] = [];
  for (const damage of damages) {
    const base = bases.get(damage.base) as Base;
    const path = join(dir, `${damage.name}.img`);
    copyFileSync(base.path, path);
    if (damage.debugfs) await debugfsWrite(path, damage.debugfs);
    if (damage.edit) await damage.edit(path, base);
    out.push({ name: damage.name, path, what: damage.what });
  }
  return out;
}

/** The byte ranges worth flipping: superblock, descriptors, bitmaps, inode tables, directories, map blocks, the journal's superblock. */
async function regions(image: string): Promise<{ start: number; length: number }[]> {
  return withReader(image, async (fs) => {
    const sb = fs.superblock;
    const bs = sb.blockSize;
    const out = [{ start: 1024, length: 1024 }];
    out.push({
      start: (sb.firstDataBlock + 1) * bs,
      length: Math.min(bs, fs.groups.length * sb.descSize),
    });
    for (const g of fs.groups.slice(0, 2)) {
      out.push({ start: g.blockBitmap * bs, length: bs });
      out.push({ start: g.inodeBitmap * bs, length: bs });
    }
    const g0 = fs.groups[0];
    if (g0) out.push({ start: g0.inodeTable * bs, length: 32 * sb.inodeSize });
    for await (const entry of fs.walk("/")) {
      if (entry.stat.type !== "directory" && entry.stat.type !== "file") continue;
      const inode = await fs.inode(entry.ino);
      for await (const run of fs.runs(inode, undefined, (block) =>
        out.push({ start: block * bs, length: bs }),
      )) {
        if (entry.stat.type === "directory")
          out.push({ start: run.physical * bs, length: run.length * bs });
      }
    }
    if (sb.journalInum) {
      const first = await fs.runs(await fs.inode(sb.journalInum), 1).next();
      if (!first.done) out.push({ start: first.value.physical * bs, length: 1024 });
    }
    return out;
  });
}

/** `count` images per base with seeded byte flips in their metadata. */
export async function buildFuzzCorpus(
  dir: string,
  count: number,
  seed = 1,
): Promise<CorpusImage[]> {
  const tree = join(dir, "tree");
  makeCorpusTree(tree);
  const bases = [
    await makeBase(dir, tree, "fz-ext2", ["-t", "ext2", "-b", "1024"], "3M"),
    await makeBase(dir, tree, "fz-ext3", ["-t", "ext3", "-b", "1024"], "4M"),
    await makeBase(dir, tree, "fz-ext4", ["-t", "ext4", "-b", "4096"], "8M"),
    await makeBase(
      dir,
      tree,
      "fz-ext4-1k",
      ["-t", "ext4", "-b", "1024", "-O", "^metadata_csum,^64bit"],
      "4M",
    ),
  ];
  const out: CorpusImage[] = [];
  for (const base of bases) {
    const original = readFileSync(base.path);
    const places = await regions(base.path);
    for (let i = 0; i < count; i++) {
      const s = seed * 100_003 + i * 7919 + original.length;
      const random = rng(s);
      const region = places[Math.floor(random() * places.length)] as {
        start: number;
        length: number;
      };
      const copy = new Uint8Array(original);
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) {
        const at = region.start + Math.floor(random() * region.length);
        copy[at] = (copy[at] ?? 0) ^ (1 << Math.floor(random() * 8));
      }
      const path = join(dir, `${base.name}-${i}.img`);
      writeFileSync(path, copy);
      out.push({
        name: `${base.name}-${i}`,
        path,
        what: `seed ${s}: ${flips} bit flip(s) at ${region.start}+${region.length}`,
      });
    }
  }
  return out;
}

/** e2fsck -fn's verdict: clean (exit 0) or not. */
export async function e2fsckClean(image: string): Promise<{ clean: boolean; output: string }> {
  const result = await execa("e2fsck", ["-fn", image], { reject: false });
  return { clean: result.exitCode === 0, output: `${result.stdout}\n${result.stderr}` };
}
