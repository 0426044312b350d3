import {
  DirFileType,
  FeatureCompat,
  FeatureIncompat,
  FeatureRoCompat,
  FileMode,
  InodeFlags,
  InodeNumber,
  NAME_MAX,
} from "../format/constants.ts";
import { emptyInode, encodeDevice, encodeExtraTime, type Inode } from "../format/inode.ts";
import { BlockMap, BlockPresence, maxMappedBlocks } from "./_block_map.ts";
import { type PlannedEntry, packDirectory } from "./_dir_pack.ts";
import { type HtreeLayout, halfMd4Hash, htreeLayout } from "./_htree.ts";
import { type Geometry, groupHasSuper, groupLayout } from "./geometry.ts";
import { type FsTree, NodeKind, TimeField, type Timestamp } from "./tree.ts";

/** A tree that does not fit, or cannot be represented. */
export class MkfsPlanError extends RangeError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "MkfsPlanError";
  }
}

/** Settings the plan needs beyond the geometry. */
export interface PlanSettings {
  journal: boolean;
  /** Time of objects mkfs creates (lost+found, implicit directories, reserved inodes). */
  createTime: Timestamp;
  /** The superblock's hash seed (4 words): directories of 3 or more blocks are hash-indexed with it. */
  hashSeed?: Uint32Array;
}

/** The whole filesystem, planned: inode numbers and the block run of every object. */
export interface Plan {
  geo: Geometry;
  tree: FsTree;
  /** Tree rows by inode number (2, 11 and up; 0: unused). */
  byIno: Uint32Array;
  /** Inode number of each tree row (0: not in the filesystem). */
  inoOf: Uint32Array;
  /** Highest inode number in use. */
  lastIno: number;
  /** First D-space block of each row's run (NaN: none). */
  d0: Float64Array;
  /** Blocks of each row's run (data and map blocks). */
  runBlocks: Uint32Array;
  /** Data blocks of each directory row. */
  dirData: Uint32Array;
  /** 1 for hash-indexed directories. */
  indexed: Uint8Array;
  hashSeed: Uint32Array;
  /** Link counts by row. */
  links: Uint16Array;
  /** Parent directory's inode number of each directory row. */
  parent: Uint32Array;
  /** Inodes mkfs makes itself: 1 (bad blocks), 7 (resize), 8 (journal). */
  special: Map<number, Inode>;
  /** Directories per group. */
  dirsPerGroup: Uint32Array;
  /** D-space blocks used (all data blocks below this index are allocated). */
  usedData: number;
  /** First D-space index of each group, and its count. */
  groupDataStart: Float64Array;
  groupDataCount: Float64Array;
  /** Physical block of D-space index `d`. */
  phys(d: number): number;
  /** D-space blocks from `d` to the end of its group: how far they stay physically contiguous. */
  blocksLeftInGroup(d: number): number;
  features: { compat: number; incompat: number; roCompat: number };
  journalIBlock?: Uint32Array;
  /** D-space start of the resize inode's DIND block and of the journal (NaN: none). */
  resizeD0: number;
  journalD0: number;
  createTime: Timestamp;
}

/** Which blocks of file `n` hold data at a block size: converts its 1 KiB runs to block runs. */
export function presenceFor(tree: FsTree, n: number, blockSize: number): BlockPresence {
  const logical = Math.ceil((tree.size[n] as number) / blockSize);
  const r = tree.dataRuns.get(n);
  if (!r) return new BlockPresence(logical);
  const k = blockSize / 1024;
  const runs: number[] = [];
  for (let i = 0; i < r.length; i += 2) {
    const s = Math.floor((r[i] as number) / k);
    const e = Math.ceil(((r[i] as number) + (r[i + 1] as number)) / k);
    const last = runs.length - 2;
    if (last >= 0 && (runs[last] as number) + (runs[last + 1] as number) >= s) {
      runs[last + 1] = Math.max(runs[last + 1] as number, e - (runs[last] as number));
    } else runs.push(s, e - s);
  }
  return new BlockPresence(logical, runs);
}

/** The lost+found size mke2fs makes: 16 KiB, at most 12 blocks... at least 2 blocks' worth as mke2fs does. */
export function lostFoundBlocks(blockSize: number): number {
  return Math.min(12, Math.max(1, Math.floor(16384 / blockSize)));
}

function dirEntryNameLengths(tree: FsTree, dir: number): number[] {
  const lengths = [1, 2];
  for (let e = tree.head[dir] as number; e; e = tree.entryNext[e] as number)
    lengths.push(tree.entryNameLength[e] as number);
  return lengths;
}

export function dirBlocks(tree: FsTree, dir: number, blockSize: number): number {
  return Math.max(
    packDirectory(dirEntryNameLengths(tree, dir), blockSize).length,
    tree.minBlocks.get(dir) ?? 0,
  );
}

/** What a tree needs at a block size: data blocks (including map blocks) and inodes. */
export function measureTree(tree: FsTree, blockSize: number): { blocks: number; inodes: number } {
  const apb = blockSize / 4;
  let blocks = 0;
  let inodes = 0;
  tree.forEachReachable((n) => {
    inodes++;
    const kind = tree.kind[n];
    if (kind === NodeKind.DIR) {
      blocks += new BlockMap(apb, new BlockPresence(dirBlocks(tree, n, blockSize))).totalBlocks;
    } else if (kind === NodeKind.FILE) {
      blocks += new BlockMap(apb, presenceFor(tree, n, blockSize)).totalBlocks;
    } else if (kind === NodeKind.SYMLINK && (tree.size[n] as number) >= 60) {
      blocks += 1;
    }
  });
  return { blocks, inodes };
}

/** The inode mode's type bits by {@linkcode NodeKind}. */
const KIND_MODE: readonly number[] = [
  0,
  FileMode.IFREG,
  FileMode.IFDIR,
  FileMode.IFLNK,
  FileMode.IFCHR,
  FileMode.IFBLK,
  FileMode.IFIFO,
  FileMode.IFSOCK,
];

/** The directory entry's file type by {@linkcode NodeKind}. */
export const KIND_TYPE: readonly number[] = [
  0,
  DirFileType.REG_FILE,
  DirFileType.DIR,
  DirFileType.SYMLINK,
  DirFileType.CHRDEV,
  DirFileType.BLKDEV,
  DirFileType.FIFO,
  DirFileType.SOCK,
];

/** The path of entry `e` in the image, for messages. */
function entryPathText(tree: FsTree, e: number): string {
  const base = tree.dirPathText(tree.entryDir[e] as number);
  return `${base === "/" ? "" : base}/${new TextDecoder().decode(tree.name(e))}`;
}

/** D-space: the data regions of all groups, concatenated, and where each index lies. */
export interface DataSpace {
  /** First D-space index of each group, and its count. */
  groupDataStart: Float64Array;
  groupDataCount: Float64Array;
  /** D-space blocks in all. */
  total: number;
  /** Physical block of D-space index `d`. */
  phys(d: number): number;
  /** D-space blocks from `d` to the end of its group: how far they stay physically contiguous. */
  blocksLeftInGroup(d: number): number;
}

/** The D-space of a geometry. */
export function dataSpace(geo: Geometry): DataSpace {
  const groupDataStart = new Float64Array(geo.groupCount);
  const groupDataCount = new Float64Array(geo.groupCount);
  const groupPhysStart = new Float64Array(geo.groupCount);
  let total = 0;
  for (let g = 0; g < geo.groupCount; g++) {
    const l = groupLayout(geo, g);
    groupDataStart[g] = total;
    groupDataCount[g] = Math.max(0, l.end - l.dataStart);
    groupPhysStart[g] = l.dataStart;
    total += groupDataCount[g] as number;
  }
  // Callers go through a file's blocks in order: the last group usually holds the next.
  let lastGroup = 0;
  const groupOf = (d: number): number => {
    const start = groupDataStart[lastGroup] as number;
    if (d < start || d >= start + (groupDataCount[lastGroup] as number)) {
      let lo = 0;
      let hi = geo.groupCount - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if ((groupDataStart[mid] as number) <= d) lo = mid;
        else hi = mid - 1;
      }
      lastGroup = lo;
    }
    return lastGroup;
  };
  return {
    groupDataStart,
    groupDataCount,
    total,
    phys: (d) => {
      const g = groupOf(d);
      return (groupPhysStart[g] as number) + d - (groupDataStart[g] as number);
    },
    blocksLeftInGroup: (d) => {
      const g = groupOf(d);
      return (groupDataStart[g] as number) + (groupDataCount[g] as number) - d;
    },
  };
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
  settings: PlanSettings,
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

/** Per-node planning arrays of {@linkcode Plan}, sized for `nodes` rows. */
export function nodeColumns(
  nodes: number,
): Pick<Plan, "inoOf" | "d0" | "runBlocks" | "dirData" | "indexed" | "links" | "parent"> {
  return {
    inoOf: new Uint32Array(nodes),
    d0: new Float64Array(nodes).fill(Number.NaN),
    runBlocks: new Uint32Array(nodes),
    dirData: new Uint32Array(nodes),
    indexed: new Uint8Array(nodes),
    links: new Uint16Array(nodes),
    parent: new Uint32Array(nodes),
  };
}

/**
 * Sizes directory `node`: its link count (2 + subdirectories), data blocks,
 * and whether it is hash-indexed (3 or more blocks, not lost+found, with a
 * hash seed). `lostFound`: the node is lost+found.
 */
export function sizeDirectory(
  plan: Pick<Plan, "tree" | "links" | "dirData" | "indexed" | "hashSeed">,
  node: number,
  blockSize: number,
  lostFound: boolean,
  indexed: boolean,
): void {
  const tree = plan.tree;
  let subdirs = 0;
  for (let e = tree.head[node] as number; e; e = tree.entryNext[e] as number)
    if (tree.kind[tree.entryNode[e] as number] === NodeKind.DIR) subdirs++;
  if (2 + subdirs > 65000) {
    throw new MkfsPlanError(
      `Cannot store a directory with ${subdirs} subdirectories: ext3 allows 64998`,
    );
  }
  plan.links[node] = 2 + subdirs;
  const bs = blockSize;
  plan.dirData[node] = dirBlocks(tree, node, bs);
  if ((plan.dirData[node] as number) >= 3 && !lostFound && indexed) {
    const layout = htreeLayoutOf(tree, node, plan.hashSeed, bs);
    if (layout) {
      plan.dirData[node] = layout.layout.blocks;
      plan.indexed[node] = 1;
    }
  }
}

/**
 * The blocks (data and map) a non-directory `node` takes, after the checks
 * mkfs makes (size a block map can address, symlink target length).
 */
export function nodeBlocks(tree: FsTree, node: number, geo: Geometry, path: () => string): number {
  const kind = tree.kind[node];
  const bs = geo.blockSize;
  if (kind === NodeKind.FILE) {
    const presence = presenceFor(tree, node, bs);
    const size = tree.size[node] as number;
    if (presence.logicalBlocks > maxMappedBlocks(geo.addrPerBlock))
      throw fileSizeError(path(), size, bs);
    const error = fileSizeCheck(size, bs, path);
    if (error) throw error;
    return new BlockMap(geo.addrPerBlock, presence).totalBlocks;
  }
  if (kind === NodeKind.SYMLINK) {
    const length = tree.size[node] as number;
    const error = symlinkCheck(length, bs);
    if (error) throw error;
    return length < 60 ? 0 : 1;
  }
  return 0;
}

function fileSizeLimit(bs: number): number {
  return Math.min(maxMappedBlocks(bs / 4) * bs, 2 ** 41 - bs);
}

function fileSizeError(path: string, size: number, bs: number): MkfsPlanError {
  return new MkfsPlanError(
    `Cannot store ${path}: ${size} bytes is over the ${fileSizeLimit(bs)} bytes a block map of ${bs}-byte blocks can address`,
  );
}

/** The error for a file of `size` bytes at a block size, if it is too big. */
export function fileSizeCheck(
  size: number,
  bs: number,
  path: () => string,
): MkfsPlanError | undefined {
  return size > fileSizeLimit(bs) ? fileSizeError(path(), size, bs) : undefined;
}

/** The error for a symlink target of `length` bytes at a block size, if it cannot be stored. */
export function symlinkCheck(length: number, bs: number): MkfsPlanError | undefined {
  if (length === 0) return new MkfsPlanError(`Cannot store a symlink with an empty target`);
  if (length >= 60 && length >= bs)
    return new MkfsPlanError(
      `Cannot store a symlink target of ${length} bytes in ${bs}-byte blocks`,
    );
  return undefined;
}

/** The error for a tree that needs more data blocks than the filesystem has. */
export function blocksError(need: number, geo: Geometry, have: number): MkfsPlanError {
  return new MkfsPlanError(
    `Cannot fit the tree: it needs ${need} data blocks of ${geo.blockSize} bytes (with the journal and block maps), the filesystem has ${have} after its metadata`,
  );
}

/** The error for a tree that needs more inodes than the filesystem has. */
export function inodesError(lastIno: number, geo: Geometry): MkfsPlanError {
  return new MkfsPlanError(
    `Cannot fit the tree: it needs ${lastIno - 10} inodes (plus 10 reserved), the filesystem has ${geo.inodesCount}`,
  );
}

/** The error for an entry name over 255 bytes. */
export function nameError(path: string, length: number): MkfsPlanError {
  return new MkfsPlanError(`Cannot store ${path}: the name is ${length} bytes, at most 255`);
}

/**
 * Plans a filesystem: assigns inode numbers (root 2, lost+found 11, the rest
 * from 12: a directory numbers its children in byte order of their names, then
 * recurses), allocates blocks in one forward sweep (root, lost+found, the
 * resize inode's map, the journal, then every object in inode order) and
 * builds the special inodes. Per-inode facts live in typed arrays by tree row;
 * inodes and directory blocks are built again when they are written. Throws
 * {@linkcode MkfsPlanError} with the numbers when the tree does not fit.
 */
export function planFilesystem(tree: FsTree, geo: Geometry, settings: PlanSettings): Plan {
  const space = dataSpace(geo);
  // Inode numbers and link counts.
  const root = 1;
  const byIno = new Uint32Array(tree.nodeCount + 12);
  const columns = nodeColumns(tree.nodeCount);
  const { inoOf, links, parent } = columns;
  const lf = tree.child(root, "lost+found");
  const lostFound = lf && tree.kind[lf] === NodeKind.DIR ? lf : 0;
  inoOf[root] = 2;
  byIno[2] = root;
  let nextIno = 11;
  if (lostFound) {
    inoOf[lostFound] = nextIno++;
    byIno[inoOf[lostFound] as number] = lostFound;
  }
  const linkCount = new Uint32Array(tree.nodeCount);
  const stack: number[] = [root];
  const dirs: number[] = [];
  while (stack.length) {
    const dir = stack.pop() as number;
    const entries = tree.sortedEntries(dir);
    dirs.length = 0;
    for (const e of entries) {
      if ((tree.entryNameLength[e] as number) > NAME_MAX)
        throw nameError(entryPathText(tree, e), tree.entryNameLength[e] as number);
      const child = tree.entryNode[e] as number;
      if (!inoOf[child]) {
        inoOf[child] = nextIno++;
        byIno[inoOf[child] as number] = child;
      }
      linkCount[child] = (linkCount[child] as number) + 1;
      if (tree.kind[child] === NodeKind.DIR) {
        if (parent[child]) {
          throw new MkfsPlanError(`Cannot store ${entryPathText(tree, e)}: a directory hard link`);
        }
        parent[child] = inoOf[dir] as number;
        dirs.push(child);
      }
    }
    for (let i = dirs.length - 1; i >= 0; i--) stack.push(dirs[i] as number);
  }
  parent[root] = 2;
  const lastIno = nextIno - 1;
  if (lastIno > geo.inodesCount) throw inodesError(lastIno, geo);
  const hashSeed = settings.hashSeed ?? new Uint32Array(4);
  const dirsPerGroup = new Uint32Array(geo.groupCount);
  const sizing = { tree, geo, hashSeed, ...columns };
  let cursor = 0;
  const place = (node: number, blocks: number) => {
    columns.d0[node] = cursor;
    columns.runBlocks[node] = blocks;
    cursor += blocks;
  };
  const planDir = (node: number) => {
    sizeDirectory(sizing, node, geo.blockSize, node === lostFound, settings.hashSeed !== undefined);
    place(node, dirMapBlocks(geo.addrPerBlock, columns.dirData[node] as number));
    const dg = Math.floor(((inoOf[node] as number) - 1) / geo.inodesPerGroup);
    dirsPerGroup[dg] = (dirsPerGroup[dg] as number) + 1;
  };

  // Root and lost+found first, as mke2fs does.
  planDir(root);
  if (lostFound) planDir(lostFound);
  const reserved = planReserved(geo, space, settings, cursor);
  cursor = reserved.cursor;

  // Everything else in inode order.
  for (let ino = InodeNumber.FIRST; ino <= lastIno; ino++) {
    const node = byIno[ino] as number;
    if (node === lostFound) continue;
    if (tree.kind[node] === NodeKind.DIR) {
      planDir(node);
      continue;
    }
    if ((linkCount[node] as number) > 65000) throw linksError(linkCount[node] as number);
    links[node] = linkCount[node] as number;
    const blocks = nodeBlocks(tree, node, geo, () => entryPathText(tree, tree.up[node] as number));
    if (blocks > 0) place(node, blocks);
  }
  if (cursor > space.total) throw blocksError(cursor, geo, space.total);
  const plan: Plan = {
    geo,
    tree,
    byIno,
    lastIno,
    ...columns,
    hashSeed,
    special: reserved.special,
    dirsPerGroup,
    usedData: cursor,
    groupDataStart: space.groupDataStart,
    groupDataCount: space.groupDataCount,
    phys: space.phys,
    blocksLeftInGroup: space.blocksLeftInGroup,
    features: reserved.features,
    resizeD0: reserved.resizeD0,
    journalD0: reserved.journalD0,
    createTime: settings.createTime,
  };
  if (reserved.journalIBlock) plan.journalIBlock = reserved.journalIBlock;
  return plan;
}

/** The error for a file with too many hard links. */
export function linksError(count: number): MkfsPlanError {
  return new MkfsPlanError(`Cannot store a file with ${count} hard links: ext3 allows 65000`);
}

/** Blocks (data and map) of a directory of `data` blocks, with `apb` addresses per block. */
export function dirMapBlocks(apb: number, data: number): number {
  return new BlockMap(apb, new BlockPresence(data)).totalBlocks;
}

/**
 * Writes the 15 i_block words of inode `ino` into `block`: made again from the
 * plan when the inode is written (15 words per inode kept for the whole run
 * would be 60 bytes per entry).
 */
function fillIBlock(plan: NodePlan, node: number, block: Uint32Array): void {
  block.fill(0);
  const d0 = plan.d0[node] as number;
  const geo = plan.geo;
  const tree = plan.tree;
  const kind = tree.kind[node];
  if (kind === NodeKind.DIR || kind === NodeKind.FILE) {
    if (Number.isNaN(d0)) return;
    const direct = directBlocks(plan, node);
    if (direct >= 0) {
      // Up to 12 blocks, no holes: all direct, one run.
      for (let i = 0; i < direct; i++) block[i] = plan.phys(d0 + i);
      return;
    }
    const presence =
      kind === NodeKind.DIR
        ? new BlockPresence(plan.dirData[node] as number)
        : presenceFor(tree, node, geo.blockSize);
    block.set(new BlockMap(geo.addrPerBlock, presence).iBlock((p) => plan.phys(d0 + p)));
  } else if (kind === NodeKind.SYMLINK) {
    const target = tree.target(node);
    if (target.length < 60) new Uint8Array(block.buffer, block.byteOffset, 60).set(target);
    else block[0] = plan.phys(d0);
  } else if (kind === NodeKind.CHAR || kind === NodeKind.BLOCK) {
    encodeDevice(tree.major(node), tree.minor(node), block);
  }
}

/**
 * The block count of a directory or file whose blocks are all direct (at most
 * 12, no holes), or -1: the common case, laid out without a {@linkcode BlockMap}.
 */
export function directBlocks(plan: NodePlan, node: number): number {
  const tree = plan.tree;
  const blocks =
    tree.kind[node] === NodeKind.DIR
      ? (plan.dirData[node] as number)
      : tree.dataRuns.has(node)
        ? -1
        : Math.ceil((tree.size[node] as number) / plan.geo.blockSize);
  return blocks <= 12 ? blocks : -1;
}

/** Fills `inode` with inode `ino` of a plan (false if the inode is unused). */
export function buildInode(plan: Plan, ino: number, inode: Inode): boolean {
  const sp = plan.special.get(ino);
  const node = plan.byIno[ino] as number;
  if (!sp && !node) return false;
  if (sp) {
    const block = inode.block;
    Object.assign(inode, sp);
    inode.block = block;
    block.set(sp.block);
    return true;
  }
  buildNodeInode(plan, node, inode);
  return true;
}

/** What building a tree row's inode and blocks needs: a whole plan, or one directory's. */
export type NodePlan = Pick<
  Plan,
  | "geo"
  | "tree"
  | "inoOf"
  | "d0"
  | "runBlocks"
  | "dirData"
  | "indexed"
  | "links"
  | "parent"
  | "hashSeed"
  | "phys"
  | "blocksLeftInGroup"
  | "createTime"
>;

/** Fills `inode` with tree row `node`'s inode. */
export function buildNodeInode(plan: NodePlan, node: number, inode: Inode): void {
  const block = inode.block;
  const tree = plan.tree;
  const kind = tree.kind[node] as number;
  const bs = plan.geo.blockSize;
  inode.mode = (KIND_MODE[kind] as number) | (tree.perm[node] as number);
  inode.uid = tree.uid[node] as number;
  inode.gid = tree.gid[node] as number;
  inode.linksCount = plan.links[node] as number;
  inode.size =
    kind === NodeKind.DIR
      ? (plan.dirData[node] as number) * bs
      : kind === NodeKind.SYMLINK || kind === NodeKind.FILE
        ? (tree.size[node] as number)
        : 0;
  inode.blocks = (plan.runBlocks[node] as number) * (bs / 512);
  inode.flags = plan.indexed[node] ? InodeFlags.INDEX : 0;
  inode.dtime = 0;
  fillIBlock(plan, node, block);
  const seconds = tree.seconds;
  const t3 = node * 3;
  inode.atime = (seconds[t3 + TimeField.ATIME] as number) >>> 0;
  inode.mtime = (seconds[t3 + TimeField.MTIME] as number) >>> 0;
  inode.ctime = (seconds[t3 + TimeField.CTIME] as number) >>> 0;
  if (plan.geo.inodeSize > 128) {
    const t = plan.createTime;
    const ns = tree.nanoseconds;
    inode.extraIsize = 32;
    inode.atimeExtra = encodeExtraTime(
      seconds[t3 + TimeField.ATIME] as number,
      ns[t3 + TimeField.ATIME] as number,
    );
    inode.mtimeExtra = encodeExtraTime(
      seconds[t3 + TimeField.MTIME] as number,
      ns[t3 + TimeField.MTIME] as number,
    );
    inode.ctimeExtra = encodeExtraTime(
      seconds[t3 + TimeField.CTIME] as number,
      ns[t3 + TimeField.CTIME] as number,
    );
    inode.crtime = t.seconds >>> 0;
    inode.crtimeExtra = encodeExtraTime(t.seconds, t.nanoseconds);
  } else inode.extraIsize = 0;
}

/** The entries of directory row `node` in order: ".", "..", then the children by name. */
export function dirEntries(plan: NodePlan, node: number): PlannedEntry[] {
  const tree = plan.tree;
  const entries: PlannedEntry[] = [
    { ino: plan.inoOf[node] as number, fileType: DirFileType.DIR, name: DOT },
    { ino: plan.parent[node] as number, fileType: DirFileType.DIR, name: DOTDOT },
  ];
  for (let e = tree.head[node] as number; e; e = tree.entryNext[e] as number) {
    entries.push(plannedEntry(plan, e));
  }
  return entries;
}

/** The directory entry `e` (a tree entry row) as written. */
export function plannedEntry(plan: NodePlan, e: number): PlannedEntry {
  const tree = plan.tree;
  const child = tree.entryNode[e] as number;
  return {
    ino: plan.inoOf[child] as number,
    fileType: KIND_TYPE[tree.kind[child] as number] as number,
    name: tree.name(e),
  };
}

const DOT = new Uint8Array([0x2e]);
const DOTDOT = new Uint8Array([0x2e, 0x2e]);

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

/** The entries of a directory in hash order (ties by name) and their htree layout. */
export function htreeLayoutOf(
  tree: FsTree,
  dir: number,
  seed: Uint32Array,
  blockSize: number,
): { entries: Uint32Array; layout: HtreeLayout } | undefined {
  const entries = tree.sortedEntries(dir);
  const hashes = new Map<number, number>();
  for (const e of entries) hashes.set(e, halfMd4Hash(tree.name(e), seed));
  entries.sort(
    (a, b) =>
      (hashes.get(a) as number) - (hashes.get(b) as number) ||
      compareBytes(tree.name(a), tree.name(b)),
  );
  const layout = htreeLayout(
    Array.from(entries, (e) => hashes.get(e) as number),
    Array.from(entries, (e) => tree.entryNameLength[e] as number),
    blockSize,
  );
  return layout ? { entries, layout } : undefined;
}
