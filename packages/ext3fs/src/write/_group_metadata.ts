/**
 * Group metadata: the superblock and its backups, the group descriptor
 * table, reserved GDT blocks, block and inode bitmaps, and the resize
 * inode's block, all made from a plan's totals (allocation is a prefix of
 * each group's data and inodes).
 */
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
>;

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
  let overhead = geo.firstDataBlock + geo.journalBlocks;
  for (let g = 0; g < geo.groupCount; g++) {
    const l = groupLayout(geo, g);
    overhead += l.dataStart - l.start;
  }
  if (!plan.journalIBlock) overhead -= geo.journalBlocks;
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

/** Per-group counts. */
export interface GroupCounts {
  freeBlocks: number;
  freeInodes: number;
  usedData: number;
  usedInodes: number;
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
  return {
    freeBlocks: l.end - l.dataStart - usedData,
    freeInodes: geo.inodesPerGroup - usedInodes,
    usedData,
    usedInodes,
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
  const gdt = new Uint8Array(geo.descBlocks * geo.blockSize);
  for (let g = 0; g < geo.groupCount; g++) {
    const l = groupLayout(geo, g);
    const c = counts[g] as GroupCounts;
    encodeGroupDescriptor(
      {
        blockBitmap: l.blockBitmap,
        inodeBitmap: l.inodeBitmap,
        inodeTable: l.inodeTable,
        freeBlocksCount: c.freeBlocks,
        freeInodesCount: c.freeInodes,
        usedDirsCount: plan.dirsPerGroup[g] as number,
        flags: 0,
        excludeBitmap: 0,
        blockBitmapCsum: 0,
        inodeBitmapCsum: 0,
        itableUnused: 0,
        checksum: 0,
      },
      gdt.subarray(g * 32, g * 32 + 32),
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
  if (g === 0 && geo.blockSize > 1024) encodeSuperblock(sb, block.subarray(1024, 2048));
  else encodeSuperblock(sb, block.subarray(0, 1024));
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

/** Group `g`'s block and inode bitmaps: allocation is a prefix of each group. */
export function groupBitmaps(
  geo: Plan["geo"],
  g: number,
  c: GroupCounts,
): [Uint8Array, Uint8Array] {
  const bs = geo.blockSize;
  const l = groupLayout(geo, g);
  const bb = new Uint8Array(bs);
  setBits(bb, 0, l.dataStart - l.start + c.usedData);
  setBits(bb, l.end - l.start, bs * 8);
  const ib = new Uint8Array(bs);
  setBits(ib, 0, c.usedInodes);
  setBits(ib, geo.inodesPerGroup, bs * 8);
  return [bb, ib];
}
