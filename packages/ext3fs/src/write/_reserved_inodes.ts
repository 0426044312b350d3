/** The inodes mkfs makes itself (bad blocks, the resize inode, the journal) and the features they bring. */
import { inodeChecksumSeed } from "../format/_checksums.ts";
import { FeatureCompat, FileMode, InodeFlags, InodeNumber } from "../format/constants.ts";
import { emptyInode, encodeExtraTime, type Inode } from "../format/inode.ts";
import { BlockMap, BlockPresence } from "./_block_map.ts";
import { type DataSpace, extentRuns, type JournalPlacement } from "./_data_space.ts";
import { journalTree, rootOfRuns } from "./_extent_map.ts";
import type { FeatureSet } from "./_mkfs_options.ts";
import type { Timestamp } from "./_tree.ts";
import { type Geometry, groupHasSuper } from "./geometry.ts";

/** What the reserved inodes depend on besides the geometry. */
export interface ReservedSettings {
  /**
   * The features wanted: the resize inode is made when wanted (with no
   * reserved GDT blocks it holds only its DIND block, as mke2fs makes it);
   * the journal when wanted and the geometry has room for one.
   */
  features: FeatureSet;
  /** Time of the objects mkfs creates. */
  createTime: Timestamp;
  /** The checksum seed with metadata_csum (the journal's extent leaves are checksummed). */
  csumSeed?: number | undefined;
}

/** What mkfs itself puts first in D-space, after the root and lost+found directories. */
export interface ReservedPlan {
  special: Map<number, Inode>;
  /** The features written: those wanted, less the resize inode's and the journal's when not made. */
  features: FeatureSet;
  journalIBlock?: Uint32Array;
  resizeD0: number;
  /** Where the journal is in D-space (NaN: none, or outside it). */
  journalD0: number;
  /** The journal outside D-space (extent filesystems), with its extent leaves' bytes. */
  journalOutside?: JournalPlacement & { leafBytes: Uint8Array[] };
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
  if (want.compat & FeatureCompat.RESIZE_INODE) {
    features.compat |= FeatureCompat.RESIZE_INODE;
    const inode = emptyInode();
    inode.mode = FileMode.IFREG | 0o600;
    inode.linksCount = 1;
    timesOfCreated(inode, t, big);
    let backups = 0;
    for (let g = 1; g < geo.groupCount; g++) if (groupHasSuper(g)) backups++;
    inode.size = (apb * apb + apb + 12) * bs;
    inode.blocks = (1 + geo.reservedGdtBlocks * (1 + backups)) * (bs / 512);
    if (space.resizeBlock !== undefined) inode.block[13] = space.resizeBlock;
    else {
      inode.block[13] = space.phys(reserved.cursor);
      reserved.resizeD0 = reserved.cursor;
      reserved.cursor += 1;
    }
    special.set(InodeNumber.RESIZE, inode);
  }
  const outside = space.journal;
  if (want.compat & FeatureCompat.HAS_JOURNAL && outside) {
    // Extent-mapped, near the middle (placed with D-space).
    features.compat |= FeatureCompat.HAS_JOURNAL;
    const inode = emptyInode();
    inode.mode = FileMode.IFREG | 0o600;
    inode.linksCount = 1;
    inode.flags = InodeFlags.EXTENTS;
    timesOfCreated(inode, t, big);
    inode.size = geo.journalBlocks * bs;
    inode.blocks = (geo.journalBlocks + outside.treeBlocks.length) * (bs / 512);
    const extents = extentRuns(outside.runs);
    const seed =
      settings.csumSeed === undefined
        ? undefined
        : inodeChecksumSeed(settings.csumSeed, InodeNumber.JOURNAL, 0);
    const tree =
      outside.treeBlocks.length > 0
        ? journalTree(extents, outside.treeBlocks, bs, seed)
        : { iBlock: rootOfRuns(extents), leafBytes: [] };
    inode.block = tree.iBlock;
    reserved.journalIBlock = inode.block;
    reserved.journalOutside = { ...outside, leafBytes: tree.leafBytes };
    special.set(InodeNumber.JOURNAL, inode);
  } else if (want.compat & FeatureCompat.HAS_JOURNAL && geo.journalBlocks > 0) {
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
