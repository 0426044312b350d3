/**
 * The tree writer's plan: the whole tree visited directory by directory with
 * the {@linkcode Allocator}, its decisions kept in columns by tree row for
 * the stream ({@linkcode ./_emit_tree.ts}) to build inodes and blocks from.
 */
import type { Inode } from "../format/inode.ts";
import { Allocator, type AllocatorSettings, type NodeColumns, nodeColumns } from "./_allocator.ts";
import type { Region } from "./_data_space.ts";
import { blocksError, inodesError, linksError } from "./_errors.ts";
import type { NodeFormat } from "./_node_map.ts";
import type { ReservedPlan } from "./_reserved_inodes.ts";
import { type FsTree, NodeKind, type Timestamp } from "./_tree.ts";
import type { Geometry } from "./geometry.ts";

/** Settings the plan needs beyond the geometry. */
export type PlanSettings = AllocatorSettings;

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
  /** D-space block of each row's extended attribute block (NaN: none). */
  xattrAt: Float64Array;
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
  /** The journal outside D-space (extent filesystems). */
  journalOutside?: ReservedPlan["journalOutside"];
  /** Metadata runs (everything that is not D-space), sorted. */
  regions: Region[];
  createTime: Timestamp;
  /** How objects are written (extents, checksums). */
  format: NodeFormat;
}

/** The path of entry `e` in the image, for messages. */
function entryPathText(tree: FsTree, e: number): string {
  const base = tree.dirPathText(tree.entryDir[e] as number);
  return `${base === "/" ? "" : base}/${new TextDecoder().decode(tree.name(e))}`;
}

/**
 * Plans a filesystem: visits the tree's directories depth first from the
 * root, each with the {@linkcode Allocator} (inode numbers, directory sizes,
 * block runs), and builds the special inodes. Per-inode facts live in typed
 * arrays by tree row; inodes and directory blocks are built again when they
 * are written. Throws {@linkcode ExtLimitError} with the numbers when the
 * tree does not fit.
 */
export function planFilesystem(tree: FsTree, geo: Geometry, settings: PlanSettings): Plan {
  const root = 1;
  const allocator = new Allocator(geo, settings);
  const byIno = new Uint32Array(tree.nodeCount + 12);
  const columns: NodeColumns = nodeColumns(tree.nodeCount);
  const { inoOf } = columns;
  const linkCount = new Uint32Array(tree.nodeCount);
  byIno[2] = root;
  const stack: number[] = [root];
  while (stack.length) {
    const dir = stack.pop() as number;
    const { dirs } = allocator.directory({
      tree,
      dir,
      ino: dir === root ? 2 : (inoOf[dir] as number),
      columns,
      link: (child) => {
        linkCount[child] = (linkCount[child] as number) + 1;
        return inoOf[child] as number;
      },
      numbered: (child, ino) => {
        byIno[ino] = child;
      },
      entriesOf: (child) => ({ tree, node: child, columns }),
      path: (e) => entryPathText(tree, e),
    });
    for (let i = dirs.length - 1; i >= 0; i--) stack.push(dirs[i] as number);
  }
  const lastIno = allocator.lastIno;
  if (lastIno > geo.inodesCount) throw inodesError(lastIno, geo);
  for (let ino = 11; ino <= lastIno; ino++) {
    const node = byIno[ino] as number;
    if (tree.kind[node] === NodeKind.DIR) continue;
    if ((linkCount[node] as number) > 65000) throw linksError(linkCount[node] as number);
    columns.links[node] = linkCount[node] as number;
  }
  const space = allocator.space;
  const reserved = allocator.reserved;
  if (!reserved) throw new Error("unreachable: the root was not visited");
  if (allocator.cursor > space.total) throw blocksError(allocator.cursor, geo, space.total);
  const plan: Plan = {
    geo,
    tree,
    byIno,
    lastIno,
    ...columns,
    hashSeed: allocator.hashSeed,
    special: reserved.special,
    dirsPerGroup: allocator.dirsPerGroup,
    usedData: allocator.cursor,
    groupDataStart: space.groupDataStart,
    groupDataCount: space.groupDataCount,
    phys: space.phys,
    blocksLeftInGroup: space.blocksLeftInGroup,
    features: reserved.features,
    resizeD0: reserved.resizeD0,
    journalD0: reserved.journalD0,
    regions: space.regions,
    createTime: settings.createTime,
    format: allocator.format,
  };
  if (reserved.journalIBlock) plan.journalIBlock = reserved.journalIBlock;
  if (reserved.journalOutside) plan.journalOutside = reserved.journalOutside;
  return plan;
}
