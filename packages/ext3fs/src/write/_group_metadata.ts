/**
 * Group metadata: the superblock and its backups, the group descriptor
 * table, reserved GDT blocks, block and inode bitmaps, and the resize
 * inode's block, all made from a plan's totals (allocation is a prefix of
 * D-space and of each group's inodes; the metadata regions are in use),
 * with metadata_csum's checksums and uninit flags as mke2fs sets them.
 */

import { groupChecksum, superblockChecksum } from "../format/_checksums.ts";
import { crc32c } from "../format/_crc32c.ts";
import {
  DefaultMount,
  ErrorsBehavior,
  FsState,
  HashVersion,
  InodeNumber,
  Jbd2,
  SuperFlags,
} from "../format/constants.ts";
import { encodeGroupDescriptor } from "../format/group_descriptor.ts";
import { emptySuperblock, encodeSuperblock, type Superblock } from "../format/superblock.ts";
import type { Region } from "./_data_space.ts";
import type { Plan } from "./_plan.ts";
import { groupHasSuper, groupLayout } from "./geometry.ts";

/** Identity and times of the filesystem being written. */
export interface EmitSettings {
  uuid: Uint8Array;
  hashSeed: Uint8Array;
  label: Uint8Array;
  /** s_mkfs_time, s_wtime, s_lastcheck. */
  time: number;
}

/** What the superblock, descriptors and bitmaps are made from: a plan's totals. */
export type PlanSummary = Pick<
  Plan,
  | "geo"
  | "features"
  | "journalIBlock"
  | "usedData"
  | "lastIno"
  | "dirsPerGroup"
  | "groupDataStart"
  | "groupDataCount"
  | "regions"
  | "phys"
  | "blocksLeftInGroup"
  | "format"
>;

/** Group descriptor flags (with a descriptor checksum). */
const BG_INODE_UNINIT = 1;
const BG_BLOCK_UNINIT = 2;
const BG_ITABLE_ZEROED = 4;

/** Builds the primary superblock of a plan. */
export function buildSuperblock(
  plan: PlanSummary,
  settings: EmitSettings,
  freeBlocks: number,
  freeInodes: number,
): Superblock {
  const geo = plan.geo;
  const sb = emptySuperblock();
  sb.inodesCount = geo.inodesCount;
  sb.blocksCount = geo.blocksCount;
  sb.rBlocksCount = geo.rBlocksCount;
  sb.freeBlocksCount = freeBlocks;
  sb.freeInodesCount = freeInodes;
  sb.firstDataBlock = geo.firstDataBlock;
  sb.logBlockSize = geo.logBlockSize;
  sb.logClusterSize = geo.logBlockSize;
  sb.blocksPerGroup = geo.blocksPerGroup;
  sb.clustersPerGroup = geo.blocksPerGroup;
  sb.inodesPerGroup = geo.inodesPerGroup;
  sb.mtime = 0;
  sb.wtime = settings.time;
  sb.maxMntCount = -1;
  sb.state = FsState.VALID;
  sb.errors = ErrorsBehavior.CONTINUE;
  sb.lastcheck = settings.time;
  sb.revLevel = 1;
  sb.firstIno = InodeNumber.FIRST;
  sb.inodeSize = geo.inodeSize;
  sb.featureCompat = plan.features.compat;
  sb.featureIncompat = plan.features.incompat;
  sb.featureRoCompat = plan.features.roCompat;
  sb.uuid = settings.uuid;
  sb.volumeName = settings.label;
  sb.reservedGdtBlocks = geo.reservedGdtBlocks;
  const seed = new DataView(settings.hashSeed.buffer, settings.hashSeed.byteOffset, 16);
  for (let i = 0; i < 4; i++) sb.hashSeed[i] = seed.getUint32(i * 4, true);
  sb.defHashVersion = HashVersion.HALF_MD4;
  sb.defaultMountOpts = DefaultMount.XATTR_USER | DefaultMount.ACL;
  sb.mkfsTime = settings.time;
  sb.flags = SuperFlags.SIGNED_HASH;
  if (geo.inodeSize > 128) {
    sb.minExtraIsize = 32;
    sb.wantExtraIsize = 32;
  }
  if (geo.descSize > 32) sb.descSize = geo.descSize;
  if (geo.flexBgSize > 0) sb.logGroupsPerFlex = Math.log2(geo.flexBgSize);
  if (plan.format.csumSeed !== undefined) sb.checksumType = 1;
  let overhead = geo.firstDataBlock + (plan.journalIBlock ? geo.journalBlocks : 0);
  for (const r of plan.regions)
    if (r.kind !== "journal" && r.kind !== "resize") overhead += r.count;
  sb.overheadClusters = overhead;
  if (plan.journalIBlock) {
    sb.journalInum = InodeNumber.JOURNAL;
    sb.jnlBackupType = Jbd2.BACKUP_INODE_BLOCKS;
    sb.jnlBlocks.set(plan.journalIBlock, 0);
    sb.jnlBlocks[15] = Math.floor((geo.journalBlocks * geo.blockSize) / 2 ** 32);
    sb.jnlBlocks[16] = (geo.journalBlocks * geo.blockSize) % 2 ** 32;
  }
  return sb;
}

/** Per-group counts and flags. */
export interface GroupCounts {
  freeBlocks: number;
  freeInodes: number;
  usedData: number;
  usedInodes: number;
  /** Descriptor flags (uninit, zeroed) with metadata_csum, else 0. */
  flags: number;
}

/** The regions overlapping group `g`'s blocks `[start, end)`, clipped to them. */
function* regionsIn(plan: PlanSummary, start: number, end: number): Generator<Region> {
  const regions = plan.regions;
  let lo = 0;
  let hi = regions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const r = regions[mid] as Region;
    if (r.start + r.count <= start) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < regions.length; i++) {
    const r = regions[i] as Region;
    if (r.start >= end) break;
    const from = Math.max(r.start, start);
    const to = Math.min(r.start + r.count, end);
    yield { ...r, start: from, count: to - from };
  }
}

function groupCounts(plan: PlanSummary, g: number): GroupCounts {
  const geo = plan.geo;
  const l = groupLayout(geo, g);
  const dataCount = plan.groupDataCount[g] as number;
  const usedData = Math.min(
    Math.max(plan.usedData - (plan.groupDataStart[g] as number), 0),
    dataCount,
  );
  const usedInodes = Math.min(
    Math.max(plan.lastIno - g * geo.inodesPerGroup, 0),
    geo.inodesPerGroup,
  );
  let flags = 0;
  if (plan.format.csumSeed !== undefined) {
    // As mke2fs: every group's table is zeroed; a group whose blocks hold
    // only its own backups (no data, journal, or flex_bg tables) and is not
    // the last is BLOCK_UNINIT; one with no inode in use INODE_UNINIT.
    flags = BG_ITABLE_ZEROED;
    if (usedInodes === 0) flags |= BG_INODE_UNINIT;
    let foreign = false;
    for (const r of regionsIn(plan, l.start, l.end)) {
      if (
        r.kind === "journal" ||
        (geo.flexBgSize > 0 && (r.kind === "bb" || r.kind === "ib" || r.kind === "it"))
      )
        foreign = true;
    }
    if (g !== geo.groupCount - 1 && usedData === 0 && !foreign) flags |= BG_BLOCK_UNINIT;
  }
  return {
    freeBlocks: dataCount - usedData,
    freeInodes: geo.inodesPerGroup - usedInodes,
    usedData,
    usedInodes,
    flags,
  };
}

function setBits(bitmap: Uint8Array, from: number, to: number): void {
  let i = from;
  while (i < to && i & 7) {
    bitmap[i >>> 3] = (bitmap[i >>> 3] as number) | (1 << (i & 7));
    i++;
  }
  if (to - i >= 8) {
    bitmap.fill(0xff, i >>> 3, to >>> 3);
    i = to & ~7;
  }
  while (i < to) {
    bitmap[i >>> 3] = (bitmap[i >>> 3] as number) | (1 << (i & 7));
    i++;
  }
}

/** The resize inode's double-indirect block: it points at the reserved GDT blocks. */
export function fillResizeBlock(geo: Plan["geo"], block: Uint8Array): void {
  const v = new DataView(block.buffer, block.byteOffset, geo.blockSize);
  for (let k = 0; k < geo.reservedGdtBlocks; k++) {
    v.setUint32(
      ((geo.descBlocks + k) % geo.addrPerBlock) * 4,
      geo.firstDataBlock + 1 + geo.descBlocks + k,
      true,
    );
  }
}

/** The superblock, the group descriptor table and each group's counts. */
export function groupMetadata(
  plan: PlanSummary,
  settings: EmitSettings,
): { sb: Superblock; gdt: Uint8Array; counts: GroupCounts[] } {
  const geo = plan.geo;
  const counts: GroupCounts[] = [];
  let freeBlocks = 0;
  let freeInodes = 0;
  for (let g = 0; g < geo.groupCount; g++) {
    const c = groupCounts(plan, g);
    counts.push(c);
    freeBlocks += c.freeBlocks;
    freeInodes += c.freeInodes;
  }
  const sb = buildSuperblock(plan, settings, freeBlocks, freeInodes);
  const ds = geo.descSize;
  const gdt = new Uint8Array(geo.descBlocks * geo.blockSize);
  const seed = plan.format.csumSeed;
  for (let g = 0; g < geo.groupCount; g++) {
    const l = groupLayout(geo, g);
    const c = counts[g] as GroupCounts;
    let blockBitmapCsum = 0;
    let inodeBitmapCsum = 0;
    if (seed !== undefined) {
      const [bb, ib] = groupBitmaps(plan, g, c);
      if (!(c.flags & BG_BLOCK_UNINIT))
        blockBitmapCsum = crc32c(seed, bb.subarray(0, geo.blocksPerGroup / 8));
      if (!(c.flags & BG_INODE_UNINIT))
        inodeBitmapCsum = crc32c(seed, ib.subarray(0, geo.inodesPerGroup / 8));
      if (ds < 64) {
        blockBitmapCsum &= 0xffff;
        inodeBitmapCsum &= 0xffff;
      }
    }
    const desc = gdt.subarray(g * ds, g * ds + ds);
    encodeGroupDescriptor(
      {
        blockBitmap: l.blockBitmap,
        inodeBitmap: l.inodeBitmap,
        inodeTable: l.inodeTable,
        freeBlocksCount: c.freeBlocks,
        freeInodesCount: c.freeInodes,
        usedDirsCount: plan.dirsPerGroup[g] as number,
        flags: c.flags,
        excludeBitmap: 0,
        blockBitmapCsum,
        inodeBitmapCsum,
        itableUnused: seed !== undefined ? geo.inodesPerGroup - c.usedInodes : 0,
        checksum: 0,
      },
      desc,
      ds,
    );
    if (seed !== undefined)
      new DataView(desc.buffer, desc.byteOffset, ds).setUint16(
        30,
        groupChecksum(seed, g, desc),
        true,
      );
  }
  return { sb, gdt, counts };
}

/** The groups that hold superblock backups. */
export function backupGroupsOf(geo: Plan["geo"]): number[] {
  const groups: number[] = [];
  for (let g = 1; g < geo.groupCount; g++) if (groupHasSuper(g)) groups.push(g);
  return groups;
}

/** Group `g`'s first block: the superblock (a copy numbered `g`). */
export function superblockBlock(sb: Superblock, geo: Plan["geo"], g: number): Uint8Array {
  const block = new Uint8Array(geo.blockSize);
  sb.blockGroupNr = g;
  const raw =
    g === 0 && geo.blockSize > 1024 ? block.subarray(1024, 2048) : block.subarray(0, 1024);
  encodeSuperblock(sb, raw);
  if (sb.checksumType === 1)
    new DataView(raw.buffer, raw.byteOffset, 1024).setUint32(1020, superblockChecksum(raw), true);
  return block;
}

/** Reserved GDT block `k` of group 0: the resize inode's list of its backups. */
export function reservedGdtBlock(geo: Plan["geo"], k: number, backupGroups: number[]): Uint8Array {
  const block = new Uint8Array(geo.blockSize);
  const v = new DataView(block.buffer);
  const pblk = geo.firstDataBlock + 1 + geo.descBlocks + k;
  backupGroups.forEach((bg, j) => {
    if (j < geo.addrPerBlock) v.setUint32(j * 4, pblk + bg * geo.blocksPerGroup, true);
  });
  return block;
}

/**
 * Group `g`'s block and inode bitmaps: its metadata regions and the D-space
 * it has in use (a prefix of D-space), its first inodes. With metadata_csum
 * an uninit group's bitmap is left as zeros, as mke2fs leaves it.
 */
export function groupBitmaps(
  plan: PlanSummary,
  g: number,
  c: GroupCounts,
): [Uint8Array, Uint8Array] {
  const geo = plan.geo;
  const bs = geo.blockSize;
  const l = groupLayout(geo, g);
  const bb = new Uint8Array(bs);
  if (!(c.flags & BG_BLOCK_UNINIT)) {
    for (const r of regionsIn(plan, l.start, l.end))
      setBits(bb, r.start - l.start, r.start - l.start + r.count);
    let d = plan.groupDataStart[g] as number;
    for (let left = c.usedData; left > 0; ) {
      const n = Math.min(left, plan.blocksLeftInGroup(d));
      const p = plan.phys(d) - l.start;
      setBits(bb, p, p + n);
      d += n;
      left -= n;
    }
    setBits(bb, l.end - l.start, bs * 8);
  }
  const ib = new Uint8Array(bs);
  if (!(c.flags & BG_INODE_UNINIT)) {
    setBits(ib, 0, c.usedInodes);
    setBits(ib, geo.inodesPerGroup, bs * 8);
  }
  return [bb, ib];
}
