import {
  DirFileType,
  FeatureCompat,
  FeatureIncompat,
  FeatureRoCompat,
  FileMode,
  InodeNumber,
  NAME_MAX,
} from "../format/constants.ts";
import { emptyInode, encodeDevice, encodeExtraTime, type Inode } from "../format/inode.ts";
import { BlockMap, BlockPresence, maxMappedBlocks } from "./_block_map.ts";
import { type PlannedEntry, packDirectory } from "./_dir_pack.ts";
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

/** One object that takes data blocks, in allocation order. */
export type Allocation =
  | {
      kind: "dir";
      d0: number;
      blocks: number;
      map: BlockMap;
      entries: PlannedEntry[];
      blockStarts: number[];
    }
  | { kind: "file"; d0: number; blocks: number; map: BlockMap; node: FsNode }
  | { kind: "symlink"; d0: number; blocks: number; target: Uint8Array }
  | { kind: "resize"; d0: number; blocks: number }
  | { kind: "journal"; d0: number; blocks: number; map: BlockMap };

/** Settings the plan needs beyond the geometry. */
export interface PlanSettings {
  journal: boolean;
  /** Time of objects mkfs creates (lost+found, implicit directories, reserved inodes). */
  createTime: Timestamp;
}

/** The whole filesystem, planned: every inode and every allocated block. */
export interface Plan {
  geo: Geometry;
  /** Inode records by number (index 0 unused); missing entries are zero inodes. */
  inodes: (Inode | undefined)[];
  /** Highest inode number in use. */
  lastIno: number;
  /** Directories per group. */
  dirsPerGroup: Uint32Array;
  allocations: Allocation[];
  /** D-space blocks used (all data blocks below this index are allocated). */
  usedData: number;
  /** First D-space index of each group, and its count. */
  groupDataStart: Float64Array;
  groupDataCount: Float64Array;
  /** Physical block of D-space index `d`. */
  phys(d: number): number;
  features: { compat: number; incompat: number; roCompat: number };
  journalIBlock?: Uint32Array;
  journalBlocksAll: number;
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

function sorted(node: FsNode): [string, FsNode][] {
  return [...(node.children as Map<string, FsNode>).entries()].sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
  );
}

const KIND_MODE = {
  file: FileMode.IFREG,
  dir: FileMode.IFDIR,
  symlink: FileMode.IFLNK,
  char: FileMode.IFCHR,
  block: FileMode.IFBLK,
  fifo: FileMode.IFIFO,
  socket: FileMode.IFSOCK,
} as const;

const KIND_TYPE = {
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
 * from 12 in sorted depth-first order), allocates blocks in one forward sweep
 * (root, lost+found, the resize inode's map, the journal, then every object in
 * inode order) and builds every inode. Throws {@linkcode MkfsPlanError} with
 * the numbers when the tree does not fit.
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

  // Inode numbers.
  const inoOf = new Map<FsNode, number>();
  const links = new Map<FsNode, number>();
  const lostFound = root.children?.get("lost+found");
  inoOf.set(root, InodeNumber.ROOT);
  let nextIno = InodeNumber.FIRST;
  if (lostFound?.kind === "dir") inoOf.set(lostFound, nextIno++);
  const parents = new Map<FsNode, FsNode>();
  const walk = (dir: FsNode, path: string[]) => {
    for (const [key, child] of sorted(dir)) {
      if (key.length > NAME_MAX) {
        throw new MkfsPlanError(
          `Cannot store ${pathText([...path, key])}: the name is ${key.length} bytes, at most 255`,
        );
      }
      links.set(child, (links.get(child) ?? 0) + 1);
      if (child.kind === "dir") {
        if (parents.has(child))
          throw new MkfsPlanError(
            `Cannot store ${pathText([...path, key])}: a directory hard link`,
          );
        parents.set(child, dir);
      }
      if (!inoOf.has(child)) inoOf.set(child, nextIno++);
    }
    for (const [key, child] of sorted(dir)) {
      if (child.kind === "dir") walk(child, [...path, key]);
    }
  };
  // Depth-first numbering: number a directory's children, then recurse.
  walk(root, []);
  const lastIno = nextIno - 1;
  if (lastIno > geo.inodesCount) {
    throw new MkfsPlanError(
      `Cannot fit the tree: it needs ${lastIno - 10} inodes (plus 10 reserved), the filesystem has ${geo.inodesCount}`,
    );
  }
  const byIno: FsNode[] = [];
  for (const [node, ino] of inoOf) byIno[ino] = node;

  const inodes: (Inode | undefined)[] = [];
  const dirsPerGroup = new Uint32Array(geo.groupCount);
  const allocations: Allocation[] = [];
  let cursor = 0;
  const t = settings.createTime;
  const setTimes = (inode: Inode, a: Timestamp, m: Timestamp, c: Timestamp, cr: Timestamp) => {
    inode.atime = a.seconds >>> 0;
    inode.mtime = m.seconds >>> 0;
    inode.ctime = c.seconds >>> 0;
    if (big) {
      inode.extraIsize = 32;
      inode.atimeExtra = encodeExtraTime(a.seconds, a.nanoseconds);
      inode.mtimeExtra = encodeExtraTime(m.seconds, m.nanoseconds);
      inode.ctimeExtra = encodeExtraTime(c.seconds, c.nanoseconds);
      inode.crtime = cr.seconds >>> 0;
      inode.crtimeExtra = encodeExtraTime(cr.seconds, cr.nanoseconds);
    }
  };
  const mapPhys = (d0: number) => (p: number) => phys(d0 + p);

  const allocateDir = (node: FsNode, ino: number) => {
    const parent = node === root ? root : (parents.get(node) as FsNode);
    const entries: PlannedEntry[] = [
      { ino, fileType: DirFileType.DIR, name: new Uint8Array([0x2e]) },
      {
        ino: inoOf.get(parent) as number,
        fileType: DirFileType.DIR,
        name: new Uint8Array([0x2e, 0x2e]),
      },
    ];
    let subdirs = 0;
    for (const [key, child] of sorted(node)) {
      entries.push({
        ino: inoOf.get(child) as number,
        fileType: KIND_TYPE[child.kind],
        name: keyBytes(key),
      });
      if (child.kind === "dir") subdirs++;
    }
    const blockStarts = packDirectory(
      entries.map((e) => e.name.length),
      bs,
    );
    const n = Math.max(blockStarts.length, node.minBlocks ?? 0);
    const map = new BlockMap(apb, new BlockPresence(n));
    allocations.push({
      kind: "dir",
      d0: cursor,
      blocks: map.totalBlocks,
      map,
      entries,
      blockStarts,
    });
    const inode = baseInode(node);
    inode.size = n * bs;
    inode.linksCount = 2 + subdirs;
    if (inode.linksCount > 65000) {
      throw new MkfsPlanError(
        `Cannot store a directory with ${subdirs} subdirectories: ext3 allows 64998`,
      );
    }
    inode.block = map.iBlock(mapPhys(cursor));
    inode.blocks = map.totalBlocks * (bs / 512);
    cursor += map.totalBlocks;
    inodes[ino] = inode;
    const dg = Math.floor((ino - 1) / geo.inodesPerGroup);
    dirsPerGroup[dg] = (dirsPerGroup[dg] as number) + 1;
  };

  const baseInode = (node: FsNode): Inode => {
    const inode = emptyInode();
    inode.mode = KIND_MODE[node.kind] | (node.perm & 0o7777);
    inode.uid = node.uid;
    inode.gid = node.gid;
    inode.linksCount = links.get(node) ?? 1;
    setTimes(inode, node.atime, node.mtime, node.ctime, t);
    return inode;
  };

  // Root and lost+found first, as mke2fs does.
  allocateDir(root, InodeNumber.ROOT);
  if (lostFound?.kind === "dir") allocateDir(lostFound, InodeNumber.FIRST);

  // Reserved inodes.
  const bad = emptyInode();
  bad.atime = bad.mtime = bad.ctime = t.seconds >>> 0;
  inodes[InodeNumber.BAD] = bad;
  const features = {
    compat: FeatureCompat.EXT_ATTR | FeatureCompat.DIR_INDEX,
    incompat: FeatureIncompat.FILETYPE,
    roCompat: FeatureRoCompat.SPARSE_SUPER | FeatureRoCompat.LARGE_FILE,
  };
  if (geo.reservedGdtBlocks > 0) {
    features.compat |= FeatureCompat.RESIZE_INODE;
    const inode = emptyInode();
    inode.mode = FileMode.IFREG | 0o600;
    inode.linksCount = 1;
    setTimes(inode, t, t, t, t);
    let backups = 0;
    for (let g = 1; g < geo.groupCount; g++) if (groupHasSuper(g)) backups++;
    inode.size = (apb * apb + apb + 12) * bs;
    inode.blocks = (1 + geo.reservedGdtBlocks * (1 + backups)) * (bs / 512);
    inode.block[13] = phys(cursor);
    allocations.push({ kind: "resize", d0: cursor, blocks: 1 });
    cursor += 1;
    inodes[InodeNumber.RESIZE] = inode;
  }
  let journalIBlock: Uint32Array | undefined;
  let journalBlocksAll = 0;
  if (settings.journal && geo.journalBlocks > 0) {
    features.compat |= FeatureCompat.HAS_JOURNAL;
    const map = new BlockMap(apb, new BlockPresence(geo.journalBlocks));
    const inode = emptyInode();
    inode.mode = FileMode.IFREG | 0o600;
    inode.linksCount = 1;
    setTimes(inode, t, t, t, t);
    inode.size = geo.journalBlocks * bs;
    inode.blocks = map.totalBlocks * (bs / 512);
    inode.block = map.iBlock(mapPhys(cursor));
    journalIBlock = inode.block;
    journalBlocksAll = map.totalBlocks;
    allocations.push({ kind: "journal", d0: cursor, blocks: map.totalBlocks, map });
    cursor += map.totalBlocks;
    inodes[InodeNumber.JOURNAL] = inode;
  }

  // Everything else in inode order.
  const maxBlocks = maxMappedBlocks(apb);
  for (let ino = InodeNumber.FIRST; ino <= lastIno; ino++) {
    const node = byIno[ino] as FsNode;
    if (node === lostFound) continue;
    if (node.kind === "dir") {
      allocateDir(node, ino);
      continue;
    }
    const inode = baseInode(node);
    if (node.kind === "file") {
      const presence = presenceFor(node, bs);
      const limit = Math.min(maxBlocks * bs, 2 ** 41 - bs);
      if (presence.logicalBlocks > maxBlocks || node.size > limit) {
        throw new MkfsPlanError(
          `Cannot store ${node.content?.label ?? "a file"}: ${node.size} bytes is over the ${limit} bytes a block map of ${bs}-byte blocks can address`,
        );
      }
      const map = new BlockMap(apb, presence);
      inode.size = node.size;
      if (map.totalBlocks > 0) {
        inode.block = map.iBlock(mapPhys(cursor));
        allocations.push({ kind: "file", d0: cursor, blocks: map.totalBlocks, map, node });
      }
      inode.blocks = map.totalBlocks * (bs / 512);
      cursor += map.totalBlocks;
    } else if (node.kind === "symlink") {
      const target = node.target ?? new Uint8Array(0);
      inode.size = target.length;
      if (target.length === 0)
        throw new MkfsPlanError(`Cannot store ${node.content?.label ?? "a symlink"}: empty target`);
      if (target.length < 60) {
        const bytes = new Uint8Array(inode.block.buffer);
        bytes.set(target);
      } else {
        if (target.length >= bs) {
          throw new MkfsPlanError(
            `Cannot store a symlink target of ${target.length} bytes in ${bs}-byte blocks`,
          );
        }
        inode.block[0] = phys(cursor);
        inode.blocks = bs / 512;
        allocations.push({ kind: "symlink", d0: cursor, blocks: 1, target });
        cursor += 1;
      }
    } else if (node.kind === "char" || node.kind === "block") {
      encodeDevice(node.major ?? 0, node.minor ?? 0, inode.block);
    }
    inodes[ino] = inode;
  }
  if (cursor > dTotal) {
    throw new MkfsPlanError(
      `Cannot fit the tree: it needs ${cursor} data blocks of ${bs} bytes (with the journal and block maps), the filesystem has ${dTotal} after its metadata`,
    );
  }
  const plan: Plan = {
    geo,
    inodes,
    lastIno,
    dirsPerGroup,
    allocations,
    usedData: cursor,
    groupDataStart,
    groupDataCount,
    phys,
    features,
    journalBlocksAll,
  };
  if (journalIBlock) plan.journalIBlock = journalIBlock;
  return plan;
}
