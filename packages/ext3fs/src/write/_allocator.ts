/**
 * The allocator: the one place that numbers inodes, sizes directories and
 * places blocks, called by both writers one directory at a time (the tree
 * writer's {@linkcode planFilesystem} over its whole tree, the walk writer's
 * {@linkcode writeWalk} over each listing), so that both give the same bytes
 * by construction.
 *
 * Inode numbers: the root is 2, lost+found 11, the rest from 12: a directory
 * numbers its new children in byte order of their names when it is visited,
 * and directories are visited depth first in that order. Blocks: one forward
 * sweep of D-space in inode order: the root, lost+found, the reserved inodes'
 * blocks (the resize inode's map, the journal), then every object as it is
 * numbered; a directory's blocks are placed when it is numbered, so it is
 * sized then, before it is visited.
 */
import { uuidChecksumSeed } from "../format/_checksums.ts";
import { FeatureCompat, FeatureRoCompat, NAME_MAX } from "../format/constants.ts";
import { BlockPresence } from "./_block_map.ts";
import { htreeLayoutOf } from "./_build_inode.ts";
import { type DataSpace, type DataSpaceOptions, dataSpace } from "./_data_space.ts";
import { LARGE_FILE_BYTES, largeFileError, nameError } from "./_errors.ts";
import { entriesPerBlock } from "./_extent_map.ts";
import { checkNode, dirBlocks, lostFoundBlocks } from "./_measure.ts";
import { type FeatureSet, writeFormat } from "./_mkfs_options.ts";
import { mapBlocksAnywhere, type NodeFormat, nodeMap } from "./_node_map.ts";
import { planReserved, type ReservedPlan, type ReservedSettings } from "./_reserved_inodes.ts";
import { type FsTree, NodeKind, type Timestamp } from "./_tree.ts";
import { needsXattrBlock, splitXattrs, xattrBlockBytes } from "./_xattrs.ts";
import { ExtLimitError } from "./errors.ts";
import type { Geometry } from "./geometry.ts";

/** Settings the allocator needs beyond the geometry. */
export interface AllocatorSettings {
  /** The features wanted (see {@linkcode ReservedSettings}). */
  features: FeatureSet;
  /** Time of objects mkfs creates (lost+found, implicit directories, reserved inodes). */
  createTime: Timestamp;
  /** The superblock's hash seed (4 words): directories of 3 or more blocks are hash-indexed with it (with dir_index). */
  hashSeed?: Uint32Array | undefined;
  /** The UUID: the checksum seed with metadata_csum. */
  uuid?: Uint8Array | undefined;
}

/** How the features shape each object: extents, checksums, link counts. */
export function nodeFormatOf(features: FeatureSet, uuid: Uint8Array | undefined): NodeFormat {
  const f = writeFormat(features);
  return {
    extents: f.extents,
    csumSeed: f.metadataCsum && uuid ? uuidChecksumSeed(uuid) : undefined,
    dirNlink: f.dirNlink,
  };
}

/** Per-row planning columns of a tree: what the allocator decides for each row. */
export interface NodeColumns {
  /** Inode number of each row (0: not numbered). */
  inoOf: Uint32Array;
  /** First D-space block of each row's run (NaN: none). */
  d0: Float64Array;
  /** Blocks of each row's run (data and map blocks). */
  runBlocks: Uint32Array;
  /** Data blocks of each directory row. */
  dirData: Uint32Array;
  /** 1 for hash-indexed directories. */
  indexed: Uint8Array;
  /** Link counts by row. */
  links: Uint16Array;
  /** Parent directory's inode number of each directory row. */
  parent: Uint32Array;
  /** D-space block of each row's extended attribute block, after its run (NaN: none). */
  xattrAt: Float64Array;
}

/** {@linkcode NodeColumns} sized for `nodes` rows. */
export function nodeColumns(nodes: number): NodeColumns {
  return {
    inoOf: new Uint32Array(nodes),
    d0: new Float64Array(nodes).fill(Number.NaN),
    runBlocks: new Uint32Array(nodes),
    dirData: new Uint32Array(nodes),
    indexed: new Uint8Array(nodes),
    links: new Uint16Array(nodes),
    parent: new Uint32Array(nodes),
    xattrAt: new Float64Array(nodes).fill(Number.NaN),
  };
}

/**
 * Sizes directory `node`: its link count (2 + subdirectories), data blocks,
 * and whether it is hash-indexed (3 or more blocks, not lost+found, with a
 * hash seed). `lostFound`: the node is lost+found.
 */
export function sizeDirectory(
  plan: { tree: FsTree; hashSeed: Uint32Array } & Pick<
    NodeColumns,
    "links" | "dirData" | "indexed"
  >,
  node: number,
  blockSize: number,
  lostFound: boolean,
  indexed: boolean,
  format: Pick<NodeFormat, "csumSeed" | "dirNlink"> = { csumSeed: undefined, dirNlink: false },
): void {
  const tree = plan.tree;
  let subdirs = 0;
  for (let e = tree.head[node] as number; e; e = tree.entryNext[e] as number)
    if (tree.kind[tree.entryNode[e] as number] === NodeKind.DIR) subdirs++;
  // Past 65000 links, dir_nlink counts 1 (as the kernel and e2fsck do).
  if (2 + subdirs > 65000 && !format.dirNlink) {
    throw new ExtLimitError(
      `Cannot store a directory with ${subdirs} subdirectories: ext3 allows 64998 (ext4's dir_nlink has no limit)`,
    );
  }
  plan.links[node] = 2 + subdirs > 65000 ? 1 : 2 + subdirs;
  const bs = blockSize;
  const tail = format.csumSeed !== undefined;
  plan.dirData[node] = dirBlocks(tree, node, bs, tail);
  if ((plan.dirData[node] as number) >= 3 && !lostFound && indexed) {
    const layout = htreeLayoutOf(tree, node, plan.hashSeed, bs, tail);
    if (layout) {
      plan.dirData[node] = layout.layout.blocks;
      plan.indexed[node] = 1;
    }
  }
}

/**
 * The highest inode number the allocator gives a tree of `objects` objects
 * (the root and lost+found included): the root is 2, lost+found 11, the
 * rest 12 and up.
 */
export function lastInoOf(objects: number): number {
  return objects + 9;
}

/** Where a child directory's entries are, to size it before it is visited. */
export interface DirectoryEntries {
  tree: FsTree;
  node: number;
  columns: NodeColumns;
}

/** One directory as a writer sees it when it visits it. */
export interface DirectoryVisit {
  /** A tree holding the directory (row `dir`) and its entries: the whole tree, or one listing. */
  tree: FsTree;
  dir: number;
  /** The directory's inode number (2: the root). */
  ino: number;
  /** Columns by row of `tree`: the allocator fills those of the directory's new children. */
  columns: NodeColumns;
  /** Counts a name of `child`; returns the inode number an earlier name gave it (a hard link), else 0. */
  link(child: number): number;
  /** Records that `child`, new here, is inode `ino`. */
  numbered(child: number, ino: number): void;
  /** Where child directory `child`'s own entries are. */
  entriesOf(child: number): DirectoryEntries;
  /** The path of entry `e` in the image, for messages. */
  path(e: number): string;
}

/** What {@linkcode Allocator.directory} did. */
export interface VisitedDirectory {
  /** The new children (first names of their objects) but lost+found, in inode order. */
  fresh: number[];
  /** The child directories, in name order: visit them next, depth first. */
  dirs: number[];
}

const LOST_FOUND = new TextEncoder().encode("lost+found");

function isLostFound(tree: FsTree, e: number): boolean {
  const name = tree.name(e);
  return name.length === LOST_FOUND.length && name.every((b, i) => b === LOST_FOUND[i]);
}

/** Numbers inodes, sizes directories and places blocks, one directory at a time. */
export class Allocator {
  readonly geo: Geometry;
  readonly space: DataSpace;
  readonly hashSeed: Uint32Array;
  /** Directories per group. */
  readonly dirsPerGroup: Uint32Array;
  /** What mkfs makes itself: placed when the root is visited. */
  reserved: ReservedPlan | undefined;
  /** The next free D-space block: every block below it is allocated. */
  cursor = 0;
  /** The highest inode number given (lost+found's 11 before any other). */
  lastIno = 11;
  /** How objects are written (extents, checksums). */
  readonly format: NodeFormat;
  /**
   * Extent-tree blocks beyond what the objects would need anywhere (where
   * D-space breaks at metadata): what measuring without positions misses.
   */
  placedTreeBlocks = 0;
  readonly #settings: AllocatorSettings;
  readonly #indexed: boolean;
  readonly #largeFile: boolean;

  /** An allocator for a filesystem of geometry `geo`. */
  constructor(geo: Geometry, settings: AllocatorSettings) {
    this.geo = geo;
    this.format = nodeFormatOf(settings.features, settings.uuid);
    this.space = allocatorSpace(geo, settings.features, this.format);
    this.hashSeed = settings.hashSeed ?? new Uint32Array(4);
    this.dirsPerGroup = new Uint32Array(geo.groupCount);
    this.#settings = settings;
    this.#indexed =
      settings.hashSeed !== undefined && (settings.features.compat & FeatureCompat.DIR_INDEX) !== 0;
    this.#largeFile = (settings.features.roCompat & FeatureRoCompat.LARGE_FILE) !== 0;
  }

  /**
   * Sizes directory `node` of `tree` into `columns` (links, data blocks, hash
   * index; lost+found at least the size mke2fs gives it); returns its data blocks.
   */
  sizeDirectory(tree: FsTree, node: number, columns: NodeColumns, lostFound: boolean): number {
    const bs = this.geo.blockSize;
    if (lostFound) tree.minBlocks.set(node, lostFoundBlocks(bs));
    sizeDirectory(
      { tree, hashSeed: this.hashSeed, ...columns },
      node,
      bs,
      lostFound,
      this.#indexed,
      this.format,
    );
    return columns.dirData[node] as number;
  }

  /** Blocks an object of `presence` takes placed at the cursor (extents break where D-space does). */
  #blocksHere(presence: BlockPresence, ino: number): number {
    if (!this.format.extents) return mapBlocksAnywhere(this.format, this.geo, presence);
    const context = { ...this.space, geo: this.geo, format: this.format };
    const here = nodeMap(context, presence, this.cursor, ino).totalBlocks;
    this.placedTreeBlocks += here - mapBlocksAnywhere(this.format, this.geo, presence);
    return here;
  }

  #placeDirectory(
    tree: FsTree,
    columns: NodeColumns,
    node: number,
    ino: number,
    dirData: number,
    path: () => string,
  ): void {
    columns.dirData[node] = dirData;
    this.#place(columns, node, this.#blocksHere(new BlockPresence(dirData), ino));
    this.#placeXattrs(tree, columns, node, path);
    const g = Math.floor((ino - 1) / this.geo.inodesPerGroup);
    this.dirsPerGroup[g] = (this.dirsPerGroup[g] as number) + 1;
  }

  /** The object's attribute block, right after its run, when its attributes do not fit its inode. */
  #placeXattrs(tree: FsTree, columns: NodeColumns, node: number, path: () => string): void {
    const xattrs = tree.xattrs.get(node);
    if (!xattrs || !needsXattrBlock(xattrs, this.geo.inodeSize)) return;
    const bytes = xattrBlockBytes(splitXattrs(xattrs, this.geo.inodeSize).block);
    if (bytes > this.geo.blockSize)
      throw new ExtLimitError(
        `Cannot store the extended attributes of ${path()}: they need ${bytes} bytes, a block holds ${this.geo.blockSize} (use a bigger block size)`,
      );
    columns.xattrAt[node] = this.cursor;
    columns.runBlocks[node] = (columns.runBlocks[node] as number) + 1;
    this.cursor++;
  }

  #place(columns: NodeColumns, node: number, blocks: number): void {
    columns.d0[node] = this.cursor;
    columns.runBlocks[node] = blocks;
    this.cursor += blocks;
  }

  #sizeChild(visit: DirectoryVisit, child: number, lostFound: boolean): number {
    const at = visit.entriesOf(child);
    return this.sizeDirectory(at.tree, at.node, at.columns, lostFound);
  }

  /**
   * Visits a directory: numbers its new children in byte order of their
   * names, and places their blocks in that order (directories sized now).
   * The root (inode 2) is itself sized and placed first, then lost+found
   * (inode 11) and the reserved inodes' blocks.
   */
  directory(visit: DirectoryVisit): VisitedDirectory {
    const { tree, dir, columns } = visit;
    const { inoOf, parent } = columns;
    const root = visit.ino === 2;
    const fresh: number[] = [];
    const dirs: number[] = [];
    let lostFound = 0;
    for (const e of tree.sortedEntries(dir)) {
      const length = tree.entryNameLength[e] as number;
      if (length > NAME_MAX) throw nameError(visit.path(e), length);
      const child = tree.entryNode[e] as number;
      const isDir = tree.kind[child] === NodeKind.DIR;
      const known = visit.link(child);
      if (known) {
        if (isDir) throw new ExtLimitError(`Cannot store ${visit.path(e)}: a directory hard link`);
        inoOf[child] = known;
        continue;
      }
      const lf = root && isDir && isLostFound(tree, e);
      const ino = lf ? 11 : ++this.lastIno;
      inoOf[child] = ino;
      visit.numbered(child, ino);
      if (isDir) {
        parent[child] = visit.ino;
        dirs.push(child);
      }
      if (lf) lostFound = child;
      else fresh.push(child);
    }
    if (root) {
      inoOf[dir] = 2;
      parent[dir] = 2;
      this.#placeDirectory(
        tree,
        columns,
        dir,
        2,
        this.sizeDirectory(tree, dir, columns, false),
        () => "/",
      );
      if (lostFound)
        this.#placeDirectory(
          tree,
          columns,
          lostFound,
          11,
          this.#sizeChild(visit, lostFound, true),
          () => "/lost+found",
        );
      this.reserved = planReserved(
        this.geo,
        this.space,
        { ...this.#settings, csumSeed: this.format.csumSeed },
        this.cursor,
      );
      this.cursor = this.reserved.cursor;
    }
    for (const child of fresh) {
      if (tree.kind[child] === NodeKind.DIR) {
        this.#placeDirectory(
          tree,
          columns,
          child,
          inoOf[child] as number,
          this.#sizeChild(visit, child, false),
          () => visit.path(tree.up[child] as number),
        );
        continue;
      }
      const ino = inoOf[child] as number;
      const checked = checkNode(
        tree,
        child,
        this.geo,
        () => visit.path(tree.up[child] as number),
        this.format.extents,
      );
      const size = tree.size[child] as number;
      if (!this.#largeFile && typeof checked !== "number" && size >= LARGE_FILE_BYTES)
        throw largeFileError(visit.path(tree.up[child] as number), size);
      const blocks =
        typeof checked === "number"
          ? checked && this.#blocksHere(new BlockPresence(checked), ino)
          : this.#blocksHere(checked, ino);
      if (blocks > 0) this.#place(columns, child, blocks);
      this.#placeXattrs(tree, columns, child, () => visit.path(tree.up[child] as number));
    }
    return { fresh, dirs };
  }
}

/**
 * The D-space an allocator works in: on extent filesystems the journal is
 * placed outside it, near the middle, as mke2fs places it (its goal counts
 * the root's block, lost+found's and the resize inode's as taken).
 */
export function allocatorSpace(geo: Geometry, features: FeatureSet, format: NodeFormat): DataSpace {
  const journal =
    format.extents && features.compat & FeatureCompat.HAS_JOURNAL && geo.journalBlocks > 0;
  const resize = features.compat & FeatureCompat.RESIZE_INODE;
  const rootAndLostFound = 1 + lostFoundBlocks(geo.blockSize);
  const options: DataSpaceOptions = {};
  // mke2fs's goal for the resize inode's block: past group 0's own tables
  // had they been in group 0 (with flex_bg, among the packed tables).
  if (resize && geo.flexBgSize > 0) {
    const goal =
      geo.firstDataBlock + geo.descBlocks + geo.reservedGdtBlocks + 2 + geo.inodeTableBlocks;
    options.resize = { goal, skip: rootAndLostFound };
  }
  if (journal) {
    options.midJournal = {
      blocks: geo.journalBlocks,
      skip: rootAndLostFound + (resize ? 1 : 0),
      perLeaf: entriesPerBlock(geo.blockSize),
    };
  }
  const space = dataSpace(geo, options);
  return space;
}
