/** The inodes mkfs makes itself (bad blocks, the resize inode, the journal) and the features they bring. */
import { FeatureCompat, FileMode, InodeNumber } from "../format/constants.ts";
import { emptyInode, encodeExtraTime, type Inode } from "../format/inode.ts";
import { BlockMap, BlockPresence } from "./_block_map.ts";
import type { DataSpace } from "./_data_space.ts";
import type { FeatureSet } from "./_mkfs_options.ts";
import type { Timestamp } from "./_tree.ts";
import { type Geometry, groupHasSuper } from "./geometry.ts";

/** What the reserved inodes depend on besides the geometry. */
export interface ReservedSettings {
  /**
   * The features wanted: the resize inode and the journal are made when
   * wanted and the geometry has room for them (reserved GDT blocks, journal
   * blocks), and their features are set only then.
   */
  features: FeatureSet;
  /** Time of the objects mkfs creates. */
  createTime: Timestamp;
}

/** What mkfs itself puts first in D-space, after the root and lost+found directories. */
export interface ReservedPlan {
  special: Map<number, Inode>;
  /** The features written: those wanted, less the resize inode's and the journal's when not made. */
  features: FeatureSet;
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
  const want = settings.features;
  const features: FeatureSet = {
    compat: want.compat & ~(FeatureCompat.RESIZE_INODE | FeatureCompat.HAS_JOURNAL),
    incompat: want.incompat,
    roCompat: want.roCompat,
  };
  const reserved: ReservedPlan = {
    special,
    features,
    resizeD0: Number.NaN,
    journalD0: Number.NaN,
    cursor,
  };
  if (want.compat & FeatureCompat.RESIZE_INODE && geo.reservedGdtBlocks > 0) {
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
  if (want.compat & FeatureCompat.HAS_JOURNAL && geo.journalBlocks > 0) {
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
