import { crc32c } from "./_crc32c.ts";
import { FilesystemProbeError } from "./errors.ts";

/**
 * What {@linkcode probeFilesystemSize} recognises, named as `blkid` names it
 * (FAT by its variant: blkid says `vfat` with `VERSION=FAT12`). `jbd` is an
 * ext3/ext4 external journal device (`mke2fs -O journal_dev`).
 */
export type FilesystemType =
  | "ext2"
  | "ext3"
  | "ext4"
  | "jbd"
  | "swap"
  | "fat12"
  | "fat16"
  | "fat32"
  | "xfs"
  | "btrfs"
  | "squashfs";

/** A filesystem found at the head of a partition image, and the length it states for itself. */
export interface FilesystemSize {
  type: FilesystemType;
  /** The filesystem's length in bytes, as its own header states it: the partition it needs. */
  bytes: number;
}

/**
 * How many bytes of a partition image's head {@linkcode probeFilesystemSize}
 * may look at: 128 KiB. btrfs's superblock lies at 64 KiB (4 KiB long) and a
 * swap signature ends the first page, which may be 64 KiB long.
 */
export const PROBE_HEAD_BYTES = 128 * 1024;

/**
 * Recognises the filesystem at the head of a partition image and reads its
 * length from its own header, as `blkid` recognises it:
 *
 * - ext2/ext3/ext4 (and `jbd` journal devices): the superblock at byte 1024,
 *   `s_blocks_count` (with its high half when the 64bit feature is on) times the
 *   block size; the superblock checksum is verified when metadata_csum is on.
 *   ext3 has a journal and only ext3's features; anything more is ext4.
 * - Linux swap (mkswap, version 1, page sizes 4 to 64 KiB, either byte order):
 *   `(last_page + 1) * pagesize`.
 * - FAT12/16/32: the BPB's total sectors times bytes per sector. The variant as
 *   Linux and blkid tell it: FAT32 by its layout (no 16-bit FAT size), else
 *   FAT12 below 4085 clusters and FAT16 below 65525.
 * - XFS: `sb_dblocks * sb_blocksize` (the data section; CRC checked on v5).
 * - btrfs: the superblock at 64 KiB, this device's `dev_item.total_bytes`
 *   (CRC-32C checked when the checksum type is crc32c).
 * - squashfs 4.0: `bytes_used` rounded up to 4 KiB, the padding mksquashfs
 *   writes (an image made with `-nopad` is shorter; the rest is then zeros).
 *
 * The head is treated as hostile: a header that is cut short, inconsistent,
 * fails its checksum or states an absurd size counts as not recognised. Give
 * at least {@linkcode PROBE_HEAD_BYTES} bytes when the image has them (fewer
 * only hide the formats whose header lies further in).
 *
 * @param head the first bytes of the partition image
 * @returns the filesystem and its length, or `undefined` when nothing is recognised
 * @throws {FilesystemProbeError} when the head holds two recognisable headers that disagree on the size
 *
 * @example An ext4 image from mke2fs
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, readFile } from "node:fs/promises";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { mkfs } from "@bigfile/ext3fs/node";
 * import { probeFilesystemSize } from "@bigfile/mbr";
 * await mkdir("root");
 * const image = await mkfs(["root"], { type: "ext4", size: 16 << 20 }); // or mke2fs -t ext4 root.ext4 16M
 * await writeToFile(image.chunks(), "root.ext4");
 * const head = (await readFile("root.ext4")).subarray(0, 128 * 1024);
 * assert.deepEqual(probeFilesystemSize(head), { type: "ext4", bytes: 16 << 20 });
 * ```
 */
export function probeFilesystemSize(head: Uint8Array): FilesystemSize | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const found: Array<{ fs: FilesystemSize; offset: number }> = [];
  for (const probe of PROBES) {
    const hit = probe(head, view);
    if (hit) found.push(hit);
  }
  const [first, ...others] = found;
  if (!first) return undefined;
  const other = others.find((o) => o.fs.bytes !== first.fs.bytes);
  if (other) {
    throw new FilesystemProbeError(
      "ambiguous",
      `Cannot tell the filesystem's size: the head holds two headers that disagree, ${first.fs.type} (${first.fs.bytes} bytes) and ${other.fs.type} (${other.fs.bytes} bytes)`,
      other.offset,
    );
  }
  return first.fs;
}

type Probe = (
  head: Uint8Array,
  view: DataView,
) => { fs: FilesystemSize; offset: number } | undefined;

/** A length in bytes when it is a positive safe integer, else undefined. */
function length(blocks: bigint, unit: number): number | undefined {
  const bytes = blocks * BigInt(unit);
  if (bytes <= 0n || bytes > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(bytes);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function log2(n: number): number {
  return 31 - Math.clz32(n);
}

function ascii(head: Uint8Array, offset: number, text: string): boolean {
  if (offset < 0 || offset + text.length > head.length) return false;
  for (let i = 0; i < text.length; i++) if (head[offset + i] !== text.charCodeAt(i)) return false;
  return true;
}

// ext2/3/4: the superblock (1024 bytes at byte 1024), little-endian.
const EXT_SB = 1024;
const EXT_MAGIC = 0xef53;
const COMPAT_HAS_JOURNAL = 0x4;
const INCOMPAT_JOURNAL_DEV = 0x8;
const INCOMPAT_64BIT = 0x80;
const RO_COMPAT_BIGALLOC = 0x200;
const RO_COMPAT_METADATA_CSUM = 0x400;
/** The incompatible features an ext3 driver knows: filetype, needs_recovery, journal_dev, meta_bg. */
const EXT3_INCOMPAT = 0x2 | 0x4 | 0x8 | 0x10;
/** The read-only features an ext3 driver knows: sparse_super, large_file, btree_dir. */
const EXT3_RO_COMPAT = 0x1 | 0x2 | 0x4;

const probeExt: Probe = (head, view) => {
  if (head.length < EXT_SB + 1024) return undefined;
  const u32 = (at: number) => view.getUint32(EXT_SB + at, true);
  if (view.getUint16(EXT_SB + 56, true) !== EXT_MAGIC) return undefined;
  const logBlock = u32(24);
  if (logBlock > 6) return undefined; // 1 KiB to 64 KiB
  const blockSize = 1024 << logBlock;
  if (u32(76) > 1) return undefined; // s_rev_level: 0 (original) or 1 (dynamic)
  const compat = u32(92);
  const incompat = u32(96);
  const roCompat = u32(100);
  const journalDev = (incompat & INCOMPAT_JOURNAL_DEV) !== 0;
  let blocks = BigInt(u32(4));
  if (incompat & INCOMPAT_64BIT) blocks += BigInt(u32(0x150)) << 32n;
  if (blocks === 0n || BigInt(u32(20)) >= blocks || u32(20) > 1) return undefined; // s_first_data_block
  // Each group's block (or cluster) bitmap fits in one block.
  const perGroup = roCompat & RO_COMPAT_BIGALLOC ? u32(36) : u32(32);
  if (perGroup === 0 || perGroup > 8 * blockSize) return undefined;
  if (!journalDev && (u32(0) === 0 || u32(40) === 0)) return undefined; // inodes, inodes per group
  if (roCompat & RO_COMPAT_METADATA_CSUM) {
    if (head[EXT_SB + 0x175] !== 1) return undefined; // s_checksum_type: crc32c
    // s_checksum is the raw CRC-32C (seed ~0, no final inversion) of the bytes before it.
    const raw = ~crc32c(head.subarray(EXT_SB, EXT_SB + 0x3fc)) >>> 0;
    if (u32(0x3fc) !== raw) return undefined;
  }
  const bytes = length(blocks, blockSize);
  if (bytes === undefined) return undefined;
  let type: FilesystemType;
  if (journalDev) type = "jbd";
  else if (incompat & ~EXT3_INCOMPAT || roCompat & ~EXT3_RO_COMPAT) type = "ext4";
  else type = compat & COMPAT_HAS_JOURNAL ? "ext3" : "ext2";
  return { fs: { type, bytes }, offset: EXT_SB };
};

// Linux swap, version 1 (mkswap): the header in the first page, "SWAPSPACE2" in its last 10 bytes.
const SWAP_PAGE_SIZES = [4096, 8192, 16384, 32768, 65536];
const SWAP_BADPAGES_AT = 1536; // after 1024 boot bytes and 512 bytes of header

const probeSwap: Probe = (head, view) => {
  for (const pageSize of SWAP_PAGE_SIZES) {
    if (!ascii(head, pageSize - 10, "SWAPSPACE2")) continue;
    // The header is in the byte order of the machine that made it: version 1 tells which.
    const version = view.getUint32(1024, true);
    const little = version === 1;
    if (!little && version !== 0x01000000) continue;
    const lastPage = view.getUint32(1028, little);
    const badPages = view.getUint32(1032, little);
    if (lastPage === 0 || badPages > (pageSize - 10 - SWAP_BADPAGES_AT) / 4) continue;
    const bytes = length(BigInt(lastPage) + 1n, pageSize);
    if (bytes !== undefined) return { fs: { type: "swap", bytes }, offset: pageSize - 10 };
  }
  return undefined;
};

// FAT12/16/32: the BIOS parameter block in the boot sector, as Microsoft's FAT specification
// (fatgen103) lays it out, little-endian.
const probeFat: Probe = (head, view) => {
  if (head.length < 512) return undefined;
  const jump = (head[0] === 0xeb && head[2] === 0x90) || head[0] === 0xe9;
  if (!jump || head[510] !== 0x55 || head[511] !== 0xaa) return undefined;
  const bytesPerSector = view.getUint16(11, true);
  const sectorsPerCluster = head[13] as number;
  const reserved = view.getUint16(14, true);
  const fats = head[16] as number;
  const rootEntries = view.getUint16(17, true);
  const total16 = view.getUint16(19, true);
  const media = head[21] as number;
  const fatSize16 = view.getUint16(22, true);
  const total32 = view.getUint32(32, true);
  const fatSize32 = view.getUint32(36, true);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) return undefined;
  if (!isPowerOfTwo(sectorsPerCluster) || reserved === 0 || fats === 0 || fats > 4)
    return undefined;
  if (media !== 0xf0 && media < 0xf8) return undefined;
  const totalSectors = total16 !== 0 ? total16 : total32;
  const fatSize = fatSize16 !== 0 ? fatSize16 : fatSize32;
  if (totalSectors === 0 || fatSize === 0) return undefined;
  const rootSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const meta = reserved + fats * fatSize + rootSectors;
  if (meta >= totalSectors) return undefined;
  const clusters = Math.floor((totalSectors - meta) / sectorsPerCluster);
  // FAT32 is told by its layout: the root directory in clusters, the FAT size in the 32-bit
  // field only. FAT12 and FAT16 (fixed root directory) by their cluster count.
  let type: FilesystemType;
  let bits: number;
  if (fatSize16 === 0) {
    if (rootEntries !== 0 || total16 !== 0) return undefined;
    [type, bits] = ["fat32", 32];
  } else {
    if (rootEntries === 0 || clusters >= 65525) return undefined;
    [type, bits] = clusters < 4085 ? ["fat12", 12] : ["fat16", 16];
  }
  // Each FAT has an entry for every cluster (and the two reserved ones).
  if ((fatSize * bytesPerSector * 8) / bits < clusters + 2) return undefined;
  const bytes = length(BigInt(totalSectors), bytesPerSector);
  return bytes === undefined ? undefined : { fs: { type, bytes }, offset: 11 };
};

// XFS: the superblock in the first sector, big-endian.
const XFS_CRC_AT = 224;

const probeXfs: Probe = (head, view) => {
  if (head.length < 512 || !ascii(head, 0, "XFSB")) return undefined;
  const blockSize = view.getUint32(4, false);
  const dblocks = view.getBigUint64(8, false);
  const agBlocks = view.getUint32(84, false);
  const agCount = view.getUint32(88, false);
  const version = view.getUint16(100, false) & 0xf;
  const sectorSize = view.getUint16(102, false);
  if (!isPowerOfTwo(blockSize) || blockSize < 512 || blockSize > 65536) return undefined;
  if (head[120] !== log2(blockSize)) return undefined; // sb_blocklog
  if (!isPowerOfTwo(sectorSize) || sectorSize < 512 || sectorSize > 32768) return undefined;
  if (head[121] !== log2(sectorSize) || sectorSize > blockSize) return undefined; // sb_sectlog
  if (version < 1 || version > 5 || agBlocks === 0 || agCount === 0) return undefined;
  // The last allocation group may be short, never empty.
  const full = BigInt(agBlocks) * BigInt(agCount);
  if (dblocks > full || dblocks <= full - BigInt(agBlocks)) return undefined;
  if (version === 5) {
    // v5 superblocks carry the CRC-32C of the sector, the CRC field counted as zeros.
    if (head.length < sectorSize) return undefined;
    const sector = head.slice(0, sectorSize);
    sector.fill(0, XFS_CRC_AT, XFS_CRC_AT + 4);
    if (view.getUint32(XFS_CRC_AT, true) !== crc32c(sector)) return undefined;
  }
  const bytes = length(dblocks, blockSize);
  return bytes === undefined ? undefined : { fs: { type: "xfs", bytes }, offset: 0 };
};

// btrfs: the primary superblock (4 KiB at 64 KiB), little-endian.
const BTRFS_SB = 0x10000;
const BTRFS_SB_SIZE = 0x1000;

const probeBtrfs: Probe = (head, view) => {
  if (head.length < BTRFS_SB + BTRFS_SB_SIZE || !ascii(head, BTRFS_SB + 0x40, "_BHRfS_M"))
    return undefined;
  const u32 = (at: number) => view.getUint32(BTRFS_SB + at, true);
  const u64 = (at: number) => view.getBigUint64(BTRFS_SB + at, true);
  if (u64(0x30) !== BigInt(BTRFS_SB)) return undefined; // bytenr: where this copy lives
  const sectorSize = u32(0x90);
  const nodeSize = u32(0x94);
  const csumType = view.getUint16(BTRFS_SB + 0xc4, true);
  if (!isPowerOfTwo(sectorSize) || sectorSize < 4096 || sectorSize > 65536) return undefined;
  if (!isPowerOfTwo(nodeSize) || nodeSize < sectorSize || nodeSize > 65536) return undefined;
  if (csumType > 3 || u64(0x88) === 0n) return undefined; // checksum type, number of devices
  if (csumType === 0) {
    const sum = crc32c(head.subarray(BTRFS_SB + 0x20, BTRFS_SB + BTRFS_SB_SIZE));
    if (u32(0) !== sum) return undefined;
  }
  // This device's size (dev_item.total_bytes); total_bytes at 0x70 sums all devices.
  const deviceBytes = u64(0xc9 + 8);
  if (deviceBytes > u64(0x70) || deviceBytes % BigInt(sectorSize) !== 0n) return undefined;
  const bytes = length(deviceBytes, 1);
  return bytes === undefined ? undefined : { fs: { type: "btrfs", bytes }, offset: BTRFS_SB };
};

// squashfs 4.0: the 96-byte superblock at byte 0, little-endian.
const SQUASHFS_PAD = 4096;

const probeSquashfs: Probe = (head, view) => {
  if (head.length < 96 || !ascii(head, 0, "hsqs")) return undefined;
  const blockSize = view.getUint32(12, true);
  const compression = view.getUint16(20, true);
  const blockLog = view.getUint16(22, true);
  if (view.getUint16(28, true) !== 4 || view.getUint16(30, true) !== 0) return undefined;
  if (!isPowerOfTwo(blockSize) || blockSize < 4096 || blockSize > 1 << 20) return undefined;
  if (blockLog !== log2(blockSize) || compression < 1 || compression > 6) return undefined;
  const used = view.getBigUint64(40, true);
  const inodeTable = view.getBigUint64(64, true);
  const directoryTable = view.getBigUint64(72, true);
  if (inodeTable < 96n || directoryTable < inodeTable || directoryTable >= used) return undefined;
  const pad = BigInt(SQUASHFS_PAD);
  const bytes = length((used + pad - 1n) / pad, SQUASHFS_PAD);
  return bytes === undefined ? undefined : { fs: { type: "squashfs", bytes }, offset: 0 };
};

/** In order of preference when two agree on the size. */
const PROBES: readonly Probe[] = [
  probeExt,
  probeXfs,
  probeBtrfs,
  probeSquashfs,
  probeSwap,
  probeFat,
];
