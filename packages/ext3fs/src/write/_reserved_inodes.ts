/** The inodes mkfs makes itself (bad blocks, the resize inode, the journal) and the features they bring. */
import {
  FeatureCompat,
  FeatureIncompat,
  FeatureRoCompat,
  FileMode,
  InodeNumber,
} from "../format/constants.ts";
import { emptyInode, encodeExtraTime, type Inode } from "../format/inode.ts";
import { BlockMap, BlockPresence } from "./_block_map.ts";
import type { DataSpace } from "./_data_space.ts";
import { type Geometry, groupHasSuper } from "./geometry.ts";
import type { Timestamp } from "./tree.ts";

/** What the reserved inodes depend on besides the geometry. */
export interface ReservedSettings {
  journal: boolean;
  /** Time of the objects mkfs creates. */
  createTime: Timestamp;
}

/** What mkfs itself puts first in D-space, after the root and lost+found directories. */
export interface ReservedPlan {
  special: Map<number, Inode>;
  features: { compat: number; incompat: number; roCompat: number };
  journalIBlock?: Uint32Array;
  resizeD0: number;
  journalD0: number;
  /** The D-space cursor after them. */
  cursor: number;
}

function timesOfCreated(inode: Inode, t: Timestamp, big: boolean): void {
  inode.atime = inode.mtime = inode.ctime = t.seconds >>> 0;
  if (big) {
    inode.extraIsize = 32;
    inode.atimeExtra =
      inode.mtimeExtra =
      inode.ctimeExtra =
        encodeExtraTime(t.seconds, t.nanoseconds);
    inode.crtime = t.seconds >>> 0;
    inode.crtimeExtra = encodeExtraTime(t.seconds, t.nanoseconds);
  }
}

/**
 * The reserved inodes (1: bad blocks, 7: the resize inode and its DIND block,
 * 8: the journal) and the features they bring, with blocks from `cursor` on.
 */
export function planReserved(
  geo: Geometry,
  space: DataSpace,
  settings: ReservedSettings,
  cursor: number,
): ReservedPlan {
  const t = settings.createTime;
  const bs = geo.blockSize;
  const apb = geo.addrPerBlock;
  const big = geo.inodeSize > 128;
  const special = new Map<number, Inode>();
  const bad = emptyInode();
  bad.atime = bad.mtime = bad.ctime = t.seconds >>> 0;
  special.set(1, bad);
  const features = {
    compat: FeatureCompat.EXT_ATTR | FeatureCompat.DIR_INDEX,
    incompat: FeatureIncompat.FILETYPE,
    roCompat: FeatureRoCompat.SPARSE_SUPER | FeatureRoCompat.LARGE_FILE,
  };
  const reserved: ReservedPlan = {
    special,
    features,
    resizeD0: Number.NaN,
    journalD0: Number.NaN,
    cursor,
  };
  if (geo.reservedGdtBlocks > 0) {
    features.compat |= FeatureCompat.RESIZE_INODE;
    const inode = emptyInode();
    inode.mode = FileMode.IFREG | 0o600;
    inode.linksCount = 1;
    timesOfCreated(inode, t, big);
    let backups = 0;
    for (let g = 1; g < geo.groupCount; g++) if (groupHasSuper(g)) backups++;
    inode.size = (apb * apb + apb + 12) * bs;
    inode.blocks = (1 + geo.reservedGdtBlocks * (1 + backups)) * (bs / 512);
    inode.block[13] = space.phys(reserved.cursor);
    reserved.resizeD0 = reserved.cursor;
    reserved.cursor += 1;
    special.set(InodeNumber.RESIZE, inode);
  }
  if (settings.journal && geo.journalBlocks > 0) {
    features.compat |= FeatureCompat.HAS_JOURNAL;
    const map = new BlockMap(apb, new BlockPresence(geo.journalBlocks));
    const inode = emptyInode();
    inode.mode = FileMode.IFREG | 0o600;
    inode.linksCount = 1;
    timesOfCreated(inode, t, big);
    inode.size = geo.journalBlocks * bs;
    inode.blocks = map.totalBlocks * (bs / 512);
    const start = reserved.cursor;
    inode.block = map.iBlock((p) => space.phys(start + p));
    reserved.journalIBlock = inode.block;
    reserved.journalD0 = reserved.cursor;
    reserved.cursor += map.totalBlocks;
    special.set(InodeNumber.JOURNAL, inode);
  }
  return reserved;
}
