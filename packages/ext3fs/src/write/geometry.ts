/**
 * Filesystem geometry as mke2fs computes it for ext2/ext3 (no flex_bg, no
 * meta_bg, no 64bit): block size and inode ratio by size class, blocks and
 * inodes per group, reserved GDT blocks for the resize inode, the last-group
 * drop rule, reserved blocks and the default journal size.
 */

import { ExtGeometryError } from "./errors.ts";

/** Options for {@linkcode computeGeometry}. */
export interface GeometryOptions {
  /** Filesystem size in bytes (the block count is `floor(bytes / blockSize)`). */
  bytes: number;
  /** Block size; default by size class: 1024 below 512 MiB, 4096 above. */
  blockSize?: number;
  /** Inode size. @default 256 */
  inodeSize?: number;
  /** Bytes per inode; default by size class (8192/4096/16384/32768/65536). */
  inodeRatio?: number;
  /** Exact inode count wanted (rounded up to fill groups as mke2fs does). */
  inodes?: number;
  /** Reserved blocks percentage. @default 5 */
  reservedPercent?: number;
  /** Journal (ext3)? @default true */
  journal?: boolean;
  /** Journal size in blocks; default as mke2fs by filesystem size. */
  journalBlocks?: number;
  /** The resize inode and reserved GDT blocks. @default true */
  resizeInode?: boolean;
}

/** The computed layout numbers of a filesystem. */
export interface Geometry {
  blockSize: number;
  logBlockSize: number;
  blocksCount: number;
  firstDataBlock: number;
  blocksPerGroup: number;
  groupCount: number;
  inodesPerGroup: number;
  inodesCount: number;
  inodeSize: number;
  inodeTableBlocks: number;
  descBlocks: number;
  reservedGdtBlocks: number;
  rBlocksCount: number;
  /** 0 without a journal. */
  journalBlocks: number;
  /** Block pointers per block: blockSize / 4. */
  addrPerBlock: number;
}

/** Per-group block layout. */
export interface GroupLayout {
  start: number;
  end: number;
  hasSuper: boolean;
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
  /** First block after the inode table: data blocks run from here to `end`. */
  dataStart: number;
}

/** The mke2fs size class of a filesystem of `bytes` bytes. */
export function sizeClass(bytes: number): "floppy" | "small" | "default" | "big" | "huge" {
  const MiB = 1024 * 1024;
  if (bytes < 3 * MiB) return "floppy";
  if (bytes < 512 * MiB) return "small";
  if (bytes < 4 * 1024 * 1024 * MiB) return "default";
  if (bytes < 16 * 1024 * 1024 * MiB) return "big";
  return "huge";
}

const CLASS_RATIO = { floppy: 8192, small: 4096, default: 16384, big: 32768, huge: 65536 } as const;

/** The block size mke2fs picks for a filesystem of `bytes` bytes. */
export function defaultBlockSize(bytes: number): number {
  const c = sizeClass(bytes);
  return c === "floppy" || c === "small" ? 1024 : 4096;
}

/** mke2fs's default journal length in blocks for a filesystem of `blocks` blocks (0: too small). */
export function defaultJournalBlocks(blocks: number): number {
  if (blocks < 2048) return 0;
  if (blocks < 32768) return 1024;
  if (blocks < 256 * 1024) return 4096;
  if (blocks < 512 * 1024) return 8192;
  if (blocks < 4096 * 1024) return 16384;
  if (blocks < 8192 * 1024) return 32768;
  if (blocks < 16384 * 1024) return 65536;
  if (blocks < 32768 * 1024) return 131072;
  return 262144;
}

/** Whether group `g` holds a superblock backup with sparse_super (0, 1 and powers of 3, 5, 7). */
export function groupHasSuper(g: number): boolean {
  if (g <= 1) return true;
  if (g % 2 === 0) return false;
  for (const base of [3, 5, 7]) {
    let p = base;
    while (p < g) p *= base;
    if (p === g) return true;
  }
  return false;
}

/**
 * Computes the geometry mke2fs would choose for the same size and options.
 *
 * @example Usage
 * ```ts
 * import { computeGeometry } from "@bigfile/ext3fs";
 * const g = computeGeometry({ bytes: 64 * 1024 * 1024 });
 * // g.blockSize === 1024, g.groupCount === 8, g.inodesCount === 16384, g.journalBlocks === 4096
 * ```
 */
export function computeGeometry(options: GeometryOptions): Geometry {
  const cls = sizeClass(options.bytes);
  const blockSize = options.blockSize ?? defaultBlockSize(options.bytes);
  if (![1024, 2048, 4096].includes(blockSize)) {
    throw new ExtGeometryError(`Cannot use block size ${blockSize}: expected 1024, 2048 or 4096`);
  }
  const inodeSize = options.inodeSize ?? 256;
  if (![128, 256].includes(inodeSize) || inodeSize > blockSize) {
    throw new ExtGeometryError(`Cannot use inode size ${inodeSize}: expected 128 or 256`);
  }
  let inodeRatio = options.inodeRatio ?? CLASS_RATIO[cls];
  if (inodeRatio < blockSize) inodeRatio = blockSize;
  const paramBlocks = Math.floor(options.bytes / blockSize);
  const firstDataBlock = blockSize === 1024 ? 1 : 0;
  const reservedPercent = options.reservedPercent ?? 5;
  if (reservedPercent < 0 || reservedPercent > 50) {
    throw new ExtGeometryError(
      `Cannot reserve ${reservedPercent}% of the blocks: expected 0 to 50`,
    );
  }
  const paramInodes = options.inodes ?? Math.floor((paramBlocks * blockSize) / inodeRatio);
  const paramReserved = Math.floor((reservedPercent * paramBlocks) / 100.0);
  const descPerBlock = blockSize / 32;
  const inodesPerBlock = blockSize / inodeSize;
  const addrPerBlock = blockSize / 4;
  let blocks = paramBlocks;
  let rBlocks = paramReserved;
  let bpg = Math.min(blockSize * 8, 65528);
  for (let attempt = 0; attempt < 1000; attempt++) {
    if (blocks <= firstDataBlock)
      throw new ExtGeometryError(`Cannot make a filesystem of ${blocks} blocks: too small`);
    const groupCount = Math.ceil((blocks - firstDataBlock) / bpg);
    const descBlocks = Math.ceil(groupCount / descPerBlock);
    let inodes = paramInodes;
    if (inodes < 12) inodes = 12;
    let ipg = Math.ceil(inodes / groupCount);
    if (ipg > blockSize * 8) {
      if (bpg >= 256) {
        bpg -= 8;
        blocks = paramBlocks;
        rBlocks = paramReserved;
        continue;
      }
      throw new ExtGeometryError(
        `Cannot fit ${inodes} inodes in ${groupCount} groups: too many inodes`,
      );
    }
    const maxIpg = 65536 - inodesPerBlock;
    if (ipg > maxIpg) ipg = maxIpg;
    let inodeTableBlocks = Math.ceil((ipg * inodeSize) / blockSize);
    ipg = Math.floor((inodeTableBlocks * blockSize) / inodeSize);
    if (ipg < 8) ipg = 8;
    ipg &= ~7;
    inodeTableBlocks = Math.ceil((ipg * inodeSize) / blockSize);
    let reservedGdt = 0;
    if (options.resizeInode ?? true) {
      let maxBlocks = 0xffffffff;
      if (blocks < Math.floor(maxBlocks / 1024)) maxBlocks = blocks * 1024;
      const rsvGroups = Math.ceil((maxBlocks - firstDataBlock) / bpg);
      reservedGdt = Math.ceil(rsvGroups / descPerBlock) - descBlocks;
      if (reservedGdt > addrPerBlock) reservedGdt = addrPerBlock;
      if (reservedGdt < 0) reservedGdt = 0;
    }
    if (3 + inodeTableBlocks + reservedGdt > bpg) {
      throw new ExtGeometryError(
        `Cannot fit ${ipg} inodes per group in groups of ${bpg} blocks: too many inodes`,
      );
    }
    let overhead = 2 + inodeTableBlocks;
    if (groupHasSuper(groupCount - 1)) overhead += 1 + descBlocks + reservedGdt;
    const rem = (blocks - firstDataBlock) % bpg;
    if (groupCount === 1 && rem && rem < overhead) {
      throw new ExtGeometryError(
        `Cannot make a filesystem of ${blocks} blocks: its metadata alone needs ${overhead + firstDataBlock} blocks`,
      );
    }
    if (rem && rem < overhead + 50) {
      const ratio = (100.0 * paramReserved) / paramBlocks;
      blocks -= rem;
      rBlocks = Math.floor((ratio * blocks) / 100.0);
      continue;
    }
    let journalBlocks = 0;
    if (options.journal ?? true)
      journalBlocks = options.journalBlocks ?? defaultJournalBlocks(blocks);
    return {
      blockSize,
      logBlockSize: Math.log2(blockSize) - 10,
      blocksCount: blocks,
      firstDataBlock,
      blocksPerGroup: bpg,
      groupCount,
      inodesPerGroup: ipg,
      inodesCount: ipg * groupCount,
      inodeSize,
      inodeTableBlocks,
      descBlocks,
      reservedGdtBlocks: reservedGdt,
      rBlocksCount: rBlocks,
      journalBlocks,
      addrPerBlock,
    };
  }
  throw new ExtGeometryError(`Cannot find a geometry for ${options.bytes} bytes`);
}

/** The block layout of group `g`. */
export function groupLayout(geo: Geometry, g: number): GroupLayout {
  const start = geo.firstDataBlock + g * geo.blocksPerGroup;
  const end = Math.min(start + geo.blocksPerGroup, geo.blocksCount);
  const hasSuper = groupHasSuper(g);
  let at = start;
  if (hasSuper) at += 1 + geo.descBlocks + geo.reservedGdtBlocks;
  return {
    start,
    end,
    hasSuper,
    blockBitmap: at,
    inodeBitmap: at + 1,
    inodeTable: at + 2,
    dataStart: at + 2 + geo.inodeTableBlocks,
  };
}
