/**
 * Filesystem geometry as mke2fs computes it (no meta_bg): block size and
 * inode ratio by size class, blocks and inodes per group, reserved GDT
 * blocks for the resize inode (32- or 64-byte descriptors), the last-group
 * drop rule, reserved blocks, the default journal size, and where each
 * group's bitmaps and inode table go (in the group, or packed per flex
 * group as mke2fs's flex_bg allocator puts them).
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
  /** Group descriptor size: 64 with the 64bit feature. @default 32 */
  descSize?: 32 | 64;
  /** Groups per flex group (flex_bg; mke2fs: 16), 0 for none. @default 0 */
  flexBgSize?: number;
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
  /** Group descriptor size: 32, or 64 (64bit). */
  descSize: number;
  /** Groups per flex group, 0 without flex_bg. */
  flexBgSize: number;
}

/** Per-group block layout. */
export interface GroupLayout {
  start: number;
  end: number;
  hasSuper: boolean;
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
  /**
   * Without flex_bg, the first block after the inode table: data blocks run
   * from here to `end`. With flex_bg, the first block after the group's
   * superblock backup and descriptors (bitmaps and tables may be anywhere).
   */
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
  const descSize = options.descSize ?? 32;
  const descPerBlock = blockSize / descSize;
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
      descSize,
      flexBgSize: options.flexBgSize ?? 0,
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
  if (geo.flexBgSize > 0) {
    const t = flexTables(geo);
    return {
      start,
      end,
      hasSuper,
      blockBitmap: t.blockBitmap[g] as number,
      inodeBitmap: t.inodeBitmap[g] as number,
      inodeTable: t.inodeTable[g] as number,
      dataStart: at,
    };
  }
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

/** Where each group's bitmaps and inode table are, by group. */
interface GroupTables {
  blockBitmap: Float64Array;
  inodeBitmap: Float64Array;
  inodeTable: Float64Array;
}

const FLEX_TABLES = new WeakMap<Geometry, GroupTables>();

/**
 * The flex_bg placement of bitmaps and inode tables, as mke2fs's
 * ext2fs_allocate_group_table makes it: for each flex group, the block
 * bitmaps packed from the first free block of its first group, the inode
 * bitmaps `table_offset` blocks further, the inode tables after those; each
 * search first-fit over the blocks still free (superblock backups and
 * descriptors are in the way).
 */
function flexTables(geo: Geometry): GroupTables {
  const cached = FLEX_TABLES.get(geo);
  if (cached) return cached;
  const used = new UsedRuns(geo.blocksCount, geo.firstDataBlock);
  for (let g = 0; g < geo.groupCount; g++) {
    if (!groupHasSuper(g)) continue;
    const start = geo.firstDataBlock + g * geo.blocksPerGroup;
    used.add(start, 1 + geo.descBlocks + geo.reservedGdtBlocks);
  }
  const n = geo.groupCount;
  const t: GroupTables = {
    blockBitmap: new Float64Array(n),
    inodeBitmap: new Float64Array(n),
    inodeTable: new Float64Array(n),
  };
  const flex = geo.flexBgSize;
  const first = (g: number) => geo.firstDataBlock + g * geo.blocksPerGroup;
  const last = (g: number) => Math.min(first(g) + geo.blocksPerGroup, geo.blocksCount) - 1;
  const itb = geo.inodeTableBlocks;
  const offset = (g: number, startBlk: number, rem: number, elem: number): number => {
    let size = rem * elem;
    if (size > Math.floor(geo.blocksPerGroup / 4)) size = Math.floor(geo.blocksPerGroup / 4);
    if (startBlk && startBlk < geo.blocksCount) {
      const found = used.findFree(startBlk, startBlk + size, elem);
      if (found >= 0) return found;
    }
    const start = first(flex * Math.floor(g / flex));
    const lastBlk = last(Math.min(g | (flex - 1), n - 1));
    for (const [from, want] of [
      [start, size],
      [start, elem],
      [0, elem],
    ] as const) {
      const found = used.findFree(from, lastBlk, want);
      if (found >= 0) return found;
    }
    return 0;
  };
  const place = (from: number, to: number, count: number, fallback: number): number => {
    let at = used.findFree(from, to, count);
    if (at < 0) at = used.findFree(fallback, to, count);
    if (at < 0)
      throw new ExtGeometryError(`Cannot place the group tables: no ${count} free blocks`);
    used.add(at, count);
    return at;
  };
  for (let g = 0; g < n; g++) {
    const lastGrp = Math.min(g | (flex - 1), n - 1);
    const rem = lastGrp - g + 1;
    const lastBlk = last(lastGrp);
    let tableOffset = flex;
    if (g % flex === 0 && lastGrp === n - 1) {
      // The last flex group keeps its tables contiguous.
      tableOffset = lastGrp & (flex - 1);
      tableOffset = tableOffset === 0 ? flex : tableOffset + 1;
    }
    let prev = g % flex ? (t.blockBitmap[g - 1] as number) + 1 : 0;
    t.blockBitmap[g] = place(offset(g, prev, rem, 1), lastBlk, 1, first(g));
    prev =
      g % flex ? (t.inodeBitmap[g - 1] as number) + 1 : (t.blockBitmap[g] as number) + tableOffset;
    t.inodeBitmap[g] = place(offset(g, prev, rem, 1), lastBlk, 1, first(g));
    prev =
      g % flex ? (t.inodeTable[g - 1] as number) + itb : (t.inodeBitmap[g] as number) + tableOffset;
    const at = used.findFree(offset(g, prev, rem, itb), lastBlk, itb);
    if (at < 0) throw new ExtGeometryError(`Cannot place group ${g}'s inode table`);
    used.add(at, itb);
    t.inodeTable[g] = at;
  }
  FLEX_TABLES.set(geo, t);
  return t;
}

/** Blocks in use, as sorted non-touching runs, with mke2fs's first-fit search. */
class UsedRuns {
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  readonly #blocks: number;
  readonly #firstData: number;

  constructor(blocks: number, firstData: number) {
    this.#blocks = blocks;
    this.#firstData = firstData;
  }

  /** Index of the first run ending after `b`. */
  #after(b: number): number {
    let lo = 0;
    let hi = this.#ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#ends[mid] as number) <= b) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(start: number, count: number): void {
    const end = start + count;
    let i = this.#after(start - 1);
    // Merge with runs it touches.
    let s = start;
    let e = end;
    let j = i;
    while (j < this.#starts.length && (this.#starts[j] as number) <= e) {
      s = Math.min(s, this.#starts[j] as number);
      e = Math.max(e, this.#ends[j] as number);
      j++;
    }
    if (i > 0 && (this.#ends[i - 1] as number) === s) {
      i--;
      s = this.#starts[i] as number;
    }
    this.#starts.splice(i, j - i, s);
    this.#ends.splice(i, j - i, e);
  }

  /**
   * ext2fs_get_free_blocks2: the first `b` in [start, finish) with `num`
   * free blocks from it (start 0 means the first data block); -1 if none.
   */
  findFree(start: number, finish: number, num: number): number {
    let b = start || this.#firstData;
    while (b < finish || b === start) {
      if (b + num - 1 >= this.#blocks) return -1;
      const i = this.#after(b);
      if (i < this.#starts.length && (this.#starts[i] as number) < b + num) {
        b = Math.max(b + 1, this.#ends[i] as number);
        if (b >= finish) return -1;
        continue;
      }
      return b;
    }
    return -1;
  }
}
