/**
 * Building inodes and directory entries from a plan (the whole tree's, or
 * one directory's): i_block words, modes, sizes, times, link counts.
 */
import { DirFileType, FileMode, InodeFlags } from "../format/constants.ts";
import { encodeDevice, encodeExtraTime, type Inode } from "../format/inode.ts";
import { BlockPresence } from "./_block_map.ts";
import type { PlannedEntry } from "./_dir_pack.ts";
import { type HtreeLayout, halfMd4Hash, htreeLayout } from "./_htree.ts";
import { presenceFor } from "./_measure.ts";
import { type NodeMap, nodeMap } from "./_node_map.ts";
import type { Plan } from "./_plan.ts";
import { type FsTree, NodeKind, TimeField } from "./_tree.ts";

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

/**
 * Writes the 15 i_block words of inode `ino` into `block`: made again from the
 * plan when the inode is written (15 words per inode kept for the whole run
 * would be 60 bytes per entry).
 */
function fillIBlock(plan: NodePlan, node: number, block: Uint32Array): boolean {
  block.fill(0);
  const d0 = plan.d0[node] as number;
  const tree = plan.tree;
  const kind = tree.kind[node];
  const extents = plan.format.extents;
  if (kind === NodeKind.DIR || kind === NodeKind.FILE) {
    if (Number.isNaN(d0)) {
      if (!extents) return false;
      // An empty file on an extent filesystem still has an (empty) extent root.
      block.set(mapOf(plan, node).iBlock());
      return true;
    }
    const direct = extents ? -1 : directBlocks(plan, node);
    if (direct >= 0) {
      // Up to 12 blocks, no holes: all direct, one run.
      for (let i = 0; i < direct; i++) block[i] = plan.phys(d0 + i);
      return false;
    }
    block.set(mapOf(plan, node).iBlock());
    return extents;
  }
  if (kind === NodeKind.SYMLINK) {
    const target = tree.target(node);
    if (target.length < 60) new Uint8Array(block.buffer, block.byteOffset, 60).set(target);
    else if (extents) {
      block.set(mapOf(plan, node).iBlock());
      return true;
    } else block[0] = plan.phys(d0);
  } else if (kind === NodeKind.CHAR || kind === NodeKind.BLOCK) {
    encodeDevice(tree.major(node), tree.minor(node), block);
  }
  return false;
}

/** The map of row `node`'s blocks (a directory's, a file's, a slow symlink's). */
export function mapOf(plan: NodePlan, node: number): NodeMap {
  const tree = plan.tree;
  const kind = tree.kind[node];
  const presence =
    kind === NodeKind.DIR
      ? new BlockPresence(plan.dirData[node] as number)
      : kind === NodeKind.SYMLINK
        ? new BlockPresence(1)
        : presenceFor(tree, node, plan.geo.blockSize);
  const d0 = plan.d0[node] as number;
  return nodeMap(plan, presence, Number.isNaN(d0) ? 0 : d0, plan.inoOf[node] as number);
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
  if (blocks > 12) return -1;
  // With extents: only one unbroken run (no tree blocks, whatever the count).
  if (plan.format.extents && blocks > 0) {
    const d0 = plan.d0[node] as number;
    if (Number.isNaN(d0) || plan.blocksLeftInGroup(d0) < blocks) return -1;
  }
  return blocks;
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
  | "format"
  | "xattrAt"
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
  inode.dtime = 0;
  const xattrAt = plan.xattrAt[node] as number;
  inode.fileAcl = Number.isNaN(xattrAt) ? 0 : plan.phys(xattrAt);
  const extents = fillIBlock(plan, node, block);
  inode.flags = (plan.indexed[node] ? InodeFlags.INDEX : 0) | (extents ? InodeFlags.EXTENTS : 0);
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
  tail = false,
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
    tail,
  );
  return layout ? { entries, layout } : undefined;
}
