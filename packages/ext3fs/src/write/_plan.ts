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
import { type FsNode, keyBytes, type Timestamp } from "./tree.ts";

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
  /** Nodes by inode number (2, 11 and up). */
  byIno: (FsNode | undefined)[];
  /** Highest inode number in use. */
  lastIno: number;
  /** First D-space block of each inode's run (NaN: none). */
  d0: Float64Array;
  /** Blocks of each inode's run (data and map blocks). */
  runBlocks: Float64Array;
  /** Data blocks of each directory. */
  dirData: Float64Array;
  /** 1 for hash-indexed directories. */
  indexed: Uint8Array;
  hashSeed: Uint32Array;
  /** Link counts by inode. */
  links: Uint32Array;
  /** Parent directory inode of each directory. */
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
  features: { compat: number; incompat: number; roCompat: number };
  journalIBlock?: Uint32Array;
  /** D-space start of the resize inode's DIND block and of the journal (NaN: none). */
  resizeD0: number;
  journalD0: number;
  createTime: Timestamp;
}

/** Number of 1 KiB units present in a file, per block size: converts 1 KiB runs to block runs. */
export function presenceFor(node: FsNode, blockSize: number): BlockPresence {
  const logical = Math.ceil(node.size / blockSize);
  if (!node.dataRuns) return new BlockPresence(logical);
  const k = blockSize / 1024;
  const runs: number[] = [];
  const r = node.dataRuns;
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

function dirEntryNameLengths(node: FsNode): number[] {
  const lengths = [1, 2];
  for (const key of (node.children as Map<string, FsNode>).keys()) lengths.push(key.length);
  return lengths;
}

/** What a tree needs at a block size: data blocks (including map blocks) and inodes. */
export function measureTree(root: FsNode, blockSize: number): { blocks: number; inodes: number } {
  const apb = blockSize / 4;
  const seen = new Set<FsNode>();
  let blocks = 0;
  let inodes = 0;
  const visit = (node: FsNode) => {
    if (seen.has(node)) return;
    seen.add(node);
    inodes++;
    if (node.kind === "dir") {
      const n = Math.max(
        packDirectory(dirEntryNameLengths(node), blockSize).length,
        node.minBlocks ?? 0,
      );
      blocks += new BlockMap(apb, new BlockPresence(n)).totalBlocks;
      for (const child of (node.children as Map<string, FsNode>).values()) visit(child);
    } else if (node.kind === "file") {
      blocks += new BlockMap(apb, presenceFor(node, blockSize)).totalBlocks;
    } else if (node.kind === "symlink" && (node.target?.length ?? 0) >= 60) {
      blocks += 1;
    }
  };
  visit(root);
  return { blocks, inodes };
}

/** Re-inserts a directory's children in byte order of their names (Map order is then sorted). */
function sortChildren(node: FsNode): Map<string, FsNode> {
  const map = node.children as Map<string, FsNode>;
  if (node.sorted) return map;
  const entries = [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  map.clear();
  for (const [k, v] of entries) map.set(k, v);
  node.sorted = true;
  return map;
}

export const KIND_MODE = {
  file: FileMode.IFREG,
  dir: FileMode.IFDIR,
  symlink: FileMode.IFLNK,
  char: FileMode.IFCHR,
  block: FileMode.IFBLK,
  fifo: FileMode.IFIFO,
  socket: FileMode.IFSOCK,
} as const;

export const KIND_TYPE = {
  file: DirFileType.REG_FILE,
  dir: DirFileType.DIR,
  symlink: DirFileType.SYMLINK,
  char: DirFileType.CHRDEV,
  block: DirFileType.BLKDEV,
  fifo: DirFileType.FIFO,
  socket: DirFileType.SOCK,
} as const;

function pathText(path: string[]): string {
  return `/${new TextDecoder().decode(keyBytes(path.join("/")))}`;
}

/**
 * Plans a filesystem: assigns inode numbers (root 2, lost+found 11, the rest
 * from 12: a directory numbers its children in byte order of their names, then
 * recurses), allocates blocks in one forward sweep (root, lost+found, the
 * resize inode's map, the journal, then every object in inode order) and
 * builds the special inodes. Per-inode facts live in typed arrays; inodes and
 * directory blocks are built again when they are written. Throws
 * {@linkcode MkfsPlanError} with the numbers when the tree does not fit.
 */
export function planFilesystem(root: FsNode, geo: Geometry, settings: PlanSettings): Plan {
  const bs = geo.blockSize;
  const apb = geo.addrPerBlock;
  const big = geo.inodeSize > 128;
  // D-space: the data regions of all groups, concatenated.
  const groupDataStart = new Float64Array(geo.groupCount);
  const groupDataCount = new Float64Array(geo.groupCount);
  const groupPhysStart = new Float64Array(geo.groupCount);
  let dTotal = 0;
  for (let g = 0; g < geo.groupCount; g++) {
    const l = groupLayout(geo, g);
    groupDataStart[g] = dTotal;
    groupDataCount[g] = Math.max(0, l.end - l.dataStart);
    groupPhysStart[g] = l.dataStart;
    dTotal += groupDataCount[g] as number;
  }
  const phys = (d: number): number => {
    let lo = 0;
    let hi = geo.groupCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((groupDataStart[mid] as number) <= d) lo = mid;
      else hi = mid - 1;
    }
    return (groupPhysStart[lo] as number) + d - (groupDataStart[lo] as number);
  };

  // Inode numbers and link counts.
  const byIno: (FsNode | undefined)[] = [];
  const lostFound = root.children?.get("lost+found");
  root.ino = 2;
  byIno[2] = root;
  let nextIno = 11;
  if (lostFound?.kind === "dir") {
    lostFound.ino = nextIno++;
    byIno[lostFound.ino] = lostFound;
  }
  const parentOf: number[] = [];
  const linkCount: number[] = [];
  const stack: FsNode[] = [root];
  const pathOf = new Map<FsNode, string[]>();
  pathOf.set(root, []);
  while (stack.length) {
    const dir = stack.pop() as FsNode;
    const children = sortChildren(dir);
    const dirs: FsNode[] = [];
    for (const [key, child] of children) {
      if (key.length > NAME_MAX) {
        throw new MkfsPlanError(
          `Cannot store ${pathText([...(pathOf.get(dir) ?? []), key])}: the name is ${key.length} bytes, at most 255`,
        );
      }
      if (child.ino === undefined) {
        child.ino = nextIno++;
        byIno[child.ino] = child;
      }
      linkCount[child.ino] = (linkCount[child.ino] ?? 0) + 1;
      if (child.kind === "dir") {
        if (parentOf[child.ino] !== undefined) {
          throw new MkfsPlanError(
            `Cannot store ${pathText([...(pathOf.get(dir) ?? []), key])}: a directory hard link`,
          );
        }
        parentOf[child.ino] = dir.ino as number;
        pathOf.set(child, [...(pathOf.get(dir) ?? []), key]);
        dirs.push(child);
      }
    }
    for (let i = dirs.length - 1; i >= 0; i--) stack.push(dirs[i] as FsNode);
    pathOf.delete(dir);
  }
  parentOf[2] = 2;
  const lastIno = nextIno - 1;
  if (lastIno > geo.inodesCount) {
    throw new MkfsPlanError(
      `Cannot fit the tree: it needs ${lastIno - 10} inodes (plus 10 reserved), the filesystem has ${geo.inodesCount}`,
    );
  }
  const n = lastIno + 1;
  const d0 = new Float64Array(n).fill(Number.NaN);
  const runBlocks = new Float64Array(n);
  const dirData = new Float64Array(n);
  const indexed = new Uint8Array(n);
  const hashSeed = settings.hashSeed ?? new Uint32Array(4);
  const links = new Uint32Array(n);
  const parent = new Uint32Array(n);
  const dirsPerGroup = new Uint32Array(geo.groupCount);
  const special = new Map<number, Inode>();
  let cursor = 0;
  const t = settings.createTime;
  const setTimes = (inode: Inode) => {
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
  };
  const place = (ino: number, map: BlockMap) => {
    d0[ino] = cursor;
    runBlocks[ino] = map.totalBlocks;
    cursor += map.totalBlocks;
  };
  const dirBlocks = (node: FsNode) =>
    Math.max(packDirectory(dirEntryNameLengths(node), bs).length, node.minBlocks ?? 0);
  const planDir = (node: FsNode, ino: number) => {
    let subdirs = 0;
    for (const child of (node.children as Map<string, FsNode>).values())
      if (child.kind === "dir") subdirs++;
    links[ino] = 2 + subdirs;
    if (links[ino] > 65000) {
      throw new MkfsPlanError(
        `Cannot store a directory with ${subdirs} subdirectories: ext3 allows 64998`,
      );
    }
    parent[ino] = parentOf[ino] as number;
    dirData[ino] = dirBlocks(node);
    if ((dirData[ino] as number) >= 3 && node !== lostFound && settings.hashSeed) {
      const layout = htreeLayoutOf(node, hashSeed, bs);
      if (layout) {
        dirData[ino] = layout.layout.blocks;
        indexed[ino] = 1;
      }
    }
    place(ino, new BlockMap(apb, new BlockPresence(dirData[ino] as number)));
    const dg = Math.floor((ino - 1) / geo.inodesPerGroup);
    dirsPerGroup[dg] = (dirsPerGroup[dg] as number) + 1;
  };

  // Root and lost+found first, as mke2fs does.
  planDir(root, 2);
  if (lostFound?.kind === "dir") planDir(lostFound, lostFound.ino as number);

  // Reserved inodes.
  const bad = emptyInode();
  bad.atime = bad.mtime = bad.ctime = t.seconds >>> 0;
  special.set(1, bad);
  const features = {
    compat: FeatureCompat.EXT_ATTR | FeatureCompat.DIR_INDEX,
    incompat: FeatureIncompat.FILETYPE,
    roCompat: FeatureRoCompat.SPARSE_SUPER | FeatureRoCompat.LARGE_FILE,
  };
  let resizeD0 = Number.NaN;
  if (geo.reservedGdtBlocks > 0) {
    features.compat |= FeatureCompat.RESIZE_INODE;
    const inode = emptyInode();
    inode.mode = FileMode.IFREG | 0o600;
    inode.linksCount = 1;
    setTimes(inode);
    let backups = 0;
    for (let g = 1; g < geo.groupCount; g++) if (groupHasSuper(g)) backups++;
    inode.size = (apb * apb + apb + 12) * bs;
    inode.blocks = (1 + geo.reservedGdtBlocks * (1 + backups)) * (bs / 512);
    inode.block[13] = phys(cursor);
    resizeD0 = cursor;
    cursor += 1;
    special.set(InodeNumber.RESIZE, inode);
  }
  let journalIBlock: Uint32Array | undefined;
  let journalD0 = Number.NaN;
  if (settings.journal && geo.journalBlocks > 0) {
    features.compat |= FeatureCompat.HAS_JOURNAL;
    const map = new BlockMap(apb, new BlockPresence(geo.journalBlocks));
    const inode = emptyInode();
    inode.mode = FileMode.IFREG | 0o600;
    inode.linksCount = 1;
    setTimes(inode);
    inode.size = geo.journalBlocks * bs;
    inode.blocks = map.totalBlocks * (bs / 512);
    const start = cursor;
    inode.block = map.iBlock((p) => phys(start + p));
    journalIBlock = inode.block;
    journalD0 = cursor;
    cursor += map.totalBlocks;
    special.set(InodeNumber.JOURNAL, inode);
  }

  // Everything else in inode order.
  const maxBlocks = maxMappedBlocks(apb);
  for (let ino = InodeNumber.FIRST; ino <= lastIno; ino++) {
    const node = byIno[ino] as FsNode;
    if (node === lostFound) continue;
    if (node.kind === "dir") {
      planDir(node, ino);
      continue;
    }
    links[ino] = linkCount[ino] ?? 1;
    if ((links[ino] as number) > 65000) {
      throw new MkfsPlanError(
        `Cannot store a file with ${links[ino]} hard links: ext3 allows 65000`,
      );
    }
    if (node.kind === "file") {
      const presence = presenceFor(node, bs);
      const limit = Math.min(maxBlocks * bs, 2 ** 41 - bs);
      if (presence.logicalBlocks > maxBlocks || node.size > limit) {
        throw new MkfsPlanError(
          `Cannot store ${node.content?.label ?? "a file"}: ${node.size} bytes is over the ${limit} bytes a block map of ${bs}-byte blocks can address`,
        );
      }
      const map = new BlockMap(apb, presence);
      if (map.totalBlocks > 0) place(ino, map);
    } else if (node.kind === "symlink") {
      const target = node.target ?? new Uint8Array(0);
      if (target.length === 0)
        throw new MkfsPlanError(`Cannot store a symlink with an empty target`);
      if (target.length >= 60) {
        if (target.length >= bs) {
          throw new MkfsPlanError(
            `Cannot store a symlink target of ${target.length} bytes in ${bs}-byte blocks`,
          );
        }
        d0[ino] = cursor;
        runBlocks[ino] = 1;
        cursor += 1;
      }
    }
  }
  if (cursor > dTotal) {
    throw new MkfsPlanError(
      `Cannot fit the tree: it needs ${cursor} data blocks of ${bs} bytes (with the journal and block maps), the filesystem has ${dTotal} after its metadata`,
    );
  }
  const plan: Plan = {
    geo,
    byIno,
    lastIno,
    d0,
    runBlocks,
    dirData,
    indexed,
    hashSeed,
    links,
    parent,
    special,
    dirsPerGroup,
    usedData: cursor,
    groupDataStart,
    groupDataCount,
    phys,
    features,
    resizeD0,
    journalD0,
    createTime: t,
  };
  if (journalIBlock) plan.journalIBlock = journalIBlock;
  return plan;
}

/**
 * Writes the 15 i_block words of inode `ino` into `block`: made again from the
 * plan when the inode is written (15 words per inode kept for the whole run
 * would be 60 bytes per entry).
 */
function fillIBlock(plan: Plan, ino: number, node: FsNode, block: Uint32Array): void {
  block.fill(0);
  const d0 = plan.d0[ino] as number;
  const geo = plan.geo;
  if (node.kind === "dir" || node.kind === "file") {
    if (Number.isNaN(d0)) return;
    const presence =
      node.kind === "dir"
        ? new BlockPresence(plan.dirData[ino] as number)
        : presenceFor(node, geo.blockSize);
    block.set(new BlockMap(geo.addrPerBlock, presence).iBlock((p) => plan.phys(d0 + p)));
  } else if (node.kind === "symlink") {
    const target = node.target ?? new Uint8Array(0);
    if (target.length < 60) new Uint8Array(block.buffer, block.byteOffset, 60).set(target);
    else block[0] = plan.phys(d0);
  } else if (node.kind === "char" || node.kind === "block") {
    encodeDevice(node.major ?? 0, node.minor ?? 0, block);
  }
}

/** Fills `inode` with inode `ino` of a plan (false if the inode is unused). */
export function buildInode(plan: Plan, ino: number, inode: Inode): boolean {
  const sp = plan.special.get(ino);
  const node = plan.byIno[ino];
  if (!sp && !node) return false;
  const block = inode.block;
  if (sp) {
    Object.assign(inode, sp);
    inode.block = block;
    block.set(sp.block);
    return true;
  }
  const n = node as FsNode;
  const bs = plan.geo.blockSize;
  inode.mode = KIND_MODE[n.kind] | (n.perm & 0o7777);
  inode.uid = n.uid;
  inode.gid = n.gid;
  inode.linksCount = plan.links[ino] as number;
  inode.size =
    n.kind === "dir" ? dirSize(plan, ino) : n.kind === "symlink" ? (n.target?.length ?? 0) : n.size;
  inode.blocks = (plan.runBlocks[ino] as number) * (bs / 512);
  inode.flags = plan.indexed[ino] ? InodeFlags.INDEX : 0;
  inode.dtime = 0;
  fillIBlock(plan, ino, n, block);
  inode.atime = n.atime.seconds >>> 0;
  inode.mtime = n.mtime.seconds >>> 0;
  inode.ctime = n.ctime.seconds >>> 0;
  if (plan.geo.inodeSize > 128) {
    const t = plan.createTime;
    inode.extraIsize = 32;
    inode.atimeExtra = encodeExtraTime(n.atime.seconds, n.atime.nanoseconds);
    inode.mtimeExtra = encodeExtraTime(n.mtime.seconds, n.mtime.nanoseconds);
    inode.ctimeExtra = encodeExtraTime(n.ctime.seconds, n.ctime.nanoseconds);
    inode.crtime = t.seconds >>> 0;
    inode.crtimeExtra = encodeExtraTime(t.seconds, t.nanoseconds);
  } else inode.extraIsize = 0;
  return true;
}

function dirSize(plan: Plan, ino: number): number {
  return (plan.dirData[ino] as number) * plan.geo.blockSize;
}

/** The entries of directory `ino` in order: ".", "..", then the children by name. */
export function dirEntries(plan: Plan, ino: number): PlannedEntry[] {
  const node = plan.byIno[ino] as FsNode;
  const entries: PlannedEntry[] = [
    { ino, fileType: DirFileType.DIR, name: DOT },
    { ino: plan.parent[ino] as number, fileType: DirFileType.DIR, name: DOTDOT },
  ];
  for (const [key, child] of node.children as Map<string, FsNode>) {
    entries.push({
      ino: child.ino as number,
      fileType: KIND_TYPE[child.kind],
      name: keyBytes(key),
    });
  }
  return entries;
}

const DOT = new Uint8Array([0x2e]);
const DOTDOT = new Uint8Array([0x2e, 0x2e]);

/** The children of a directory in hash order (ties by name) and their htree layout. */
export function htreeLayoutOf(
  node: FsNode,
  seed: Uint32Array,
  blockSize: number,
): { keys: string[]; layout: HtreeLayout } | undefined {
  const items: { key: string; hash: number }[] = [];
  for (const key of (node.children as Map<string, FsNode>).keys()) {
    items.push({ key, hash: halfMd4Hash(keyBytes(key), seed) });
  }
  items.sort((a, b) => a.hash - b.hash || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const layout = htreeLayout(
    items.map((i) => i.hash),
    items.map((i) => i.key.length),
    blockSize,
  );
  return layout ? { keys: items.map((i) => i.key), layout } : undefined;
}
