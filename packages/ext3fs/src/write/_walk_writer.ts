/**
 * The walk writer: mkfs for directory sources with memory bounded by the
 * biggest directory, not by the tree. It walks the sources twice, one
 * directory at a time ({@linkcode listDirectory}): once to measure (inodes
 * and blocks, checks, hole scans) and once to write by position into a file,
 * each listing numbered and allocated by the {@linkcode Allocator} that
 * {@linkcode planFilesystem} also calls, so both writers give the same bytes
 * by construction. Each directory
 * is written when it is visited; bitmaps, descriptors and superblocks last
 * (allocation is sequential, so they need only counts).
 */
import { zeros } from "@bigfile/blockdev";
import { writeNonZeroBlocks } from "@bigfile/blockdev/node";
import { setInodeChecksum } from "../format/_checksums.ts";
import { NAME_MAX } from "../format/constants.ts";
import { emptyInode, encodeInode, type Inode } from "../format/inode.ts";
import { Allocator, nodeColumns, sizeDirectory } from "./_allocator.ts";
import {
  dirBlocks as directoryBlocks,
  fileBlocks,
  journalBlocks,
  outsideJournal,
} from "./_block_streams.ts";
import { buildNodeInode, directBlocks, type NodePlan } from "./_build_inode.ts";
import { fileContent } from "./_content_file.ts";
import { queued, queueFileCopy } from "./_copier_queue.ts";
import type { SourceOwnership } from "./_dir_source_file.ts";
import { linksError, nameError } from "./_errors.ts";
import {
  backupGroupsOf,
  type EmitSettings,
  fillResizeBlock,
  groupBitmaps,
  groupMetadata,
  type PlanSummary,
  reservedGdtBlock,
  superblockBlock,
} from "./_group_metadata.ts";
import { dirBlocks, dirMapBlocks, lostFoundBlocks, presenceFor } from "./_measure.ts";
import type { FeatureSet } from "./_mkfs_options.ts";
import { mapBlocksAnywhere, type NodeFormat } from "./_node_map.ts";
import type { FileTarget, RangeCopier } from "./_output_options.ts";
import { Packer } from "./_packer.ts";
import { scanHoles } from "./_scan.ts";
import type { TarShadow } from "./_tar_shadow.ts";
import { FsTree, NodeKind, TimeField, type Timestamp } from "./_tree.ts";
import { type DirPlace, type Listing, listDirectory, listNames } from "./_walk_listing.ts";
import { needsXattrBlock, type StoredXattr, writeInodeXattrs, xattrBlock } from "./_xattrs.ts";
import { type Geometry, groupLayout } from "./geometry.ts";

/** The block sizes a measure covers. */
const BLOCK_SIZES = [1024, 2048, 4096] as const;

/** What the walk needs besides the sources. */
export interface WalkSettings {
  /** Sources, in order (later wins): directories, and tar archives laid out on disk. */
  roots: readonly (string | TarShadow)[];
  own: SourceOwnership;
  rootOwner?: { uid: number; gid: number } | undefined;
  /** Time of the objects mkfs creates (lost+found). */
  createTime: Timestamp;
  hashSeed: Uint32Array;
  /** Hash-indexed directories (dir_index). */
  dirIndex: boolean;
  /** How objects are written (extents, checksums, link counts). */
  format: NodeFormat;
  /** The UUID (the checksum seed with metadata_csum). */
  uuid: Uint8Array;
  /** Checks files can be read (measure) and copies contents (write). */
  copier?: RangeCopier | undefined;
  /** Inode size: whether attributes fit the inode or need a block. */
  inodeSize: number;
}

/** What the first walk found. */
export interface WalkMeasure {
  /** Objects, the root and lost+found included. */
  inodes: number;
  /** Data and map blocks by block size, as {@linkcode measureTree} counts them. */
  plain: Map<number, number>;
  /** The same as the plan allocates them (hash-indexed directories are bigger). */
  exact: Map<number, number>;
  /** The newest mtime of a source object not in the future. */
  maxMtime: number;
  /** The biggest file, and the longest and an empty symlink target, for checks by block size. */
  largestFile: { size: number; path: string };
  longestSymlink: number;
  emptySymlink: boolean;
  /** Present 1 KiB runs of source files with holes, by path. */
  runs: Map<string, number[]>;
}

/** What the second walk allocated. */
export interface WalkResult {
  lastIno: number;
  usedData: number;
  /** Extent-tree blocks beyond what the measure counts (where D-space breaks). */
  placedTreeBlocks: number;
}

interface Pending {
  places: DirPlace[];
  /** Path in the image ("" for the root). */
  path: string;
  lostFound: boolean;
  ino: number;
  parentIno: number;
  d0: number;
  dirData: number;
  /** Blocks of its run (data and map blocks, and its attribute block). */
  runBlocks: number;
  /** D-space block of its attribute block (NaN: none). */
  xattrAt: number;
}

const DECODER = new TextDecoder();

function runsKey(path: string | Buffer): string {
  return typeof path === "string" ? path : `\0${path.toString("hex")}`;
}

function nameText(tree: FsTree, e: number): string {
  return DECODER.decode(tree.name(e));
}

/**
 * Lists directory `dir` (the root when `root`): mkfs's own changes come in
 * here as in the tree writer (root owner, a created lost+found, times of
 * created objects).
 */
function visitListing(dir: Pending, settings: WalkSettings, root: boolean): Listing {
  const listing = listDirectory(dir.places, settings.own, dir.places.length ? 0o755 : 0o700);
  const tree = listing.tree;
  if (root) {
    if (settings.rootOwner) {
      tree.uid[FsTree.ROOT] = settings.rootOwner.uid;
      tree.gid[FsTree.ROOT] = settings.rootOwner.gid;
    }
    const lf = tree.child(FsTree.ROOT, "lost+found");
    if (!lf || tree.kind[lf] !== NodeKind.DIR)
      tree.place(FsTree.ROOT, new TextEncoder().encode("lost+found"), tree.newCreatedDir(0o700));
  }
  if (tree.isCreated(FsTree.ROOT)) tree.setAllTimes(FsTree.ROOT, settings.createTime);
  for (let e = tree.head[FsTree.ROOT] as number; e; e = tree.entryNext[e] as number) {
    const child = tree.entryNode[e] as number;
    if (tree.isCreated(child)) tree.setAllTimes(child, settings.createTime);
  }
  return listing;
}

function rootPending(roots: readonly (string | TarShadow)[]): Pending {
  return {
    places: roots.map((root, source) =>
      typeof root === "string"
        ? { source, path: root.replace(/(.)\/+$/, "$1") }
        : { source, path: root.root, shadow: root },
    ),
    path: "",
    lostFound: false,
    ino: 2,
    parentIno: 2,
    d0: Number.NaN,
    dirData: -1,
    runBlocks: 0,
    xattrAt: Number.NaN,
  };
}

/** The child directories of a listing as pending visits, by row, in name order. */
function childDirs(listing: Listing, parent: Pending, root: boolean): Map<number, Pending> {
  const tree = listing.tree;
  const out = new Map<number, Pending>();
  for (const e of tree.sortedEntries(FsTree.ROOT)) {
    const child = tree.entryNode[e] as number;
    if (tree.kind[child] !== NodeKind.DIR) continue;
    const name = nameText(tree, e);
    out.set(child, {
      places: listing.places.get(child) ?? [],
      path: `${parent.path}/${name}`,
      lostFound: root && name === "lost+found",
      ino: 0,
      parentIno: parent.ino,
      d0: Number.NaN,
      dirData: 0,
      runBlocks: 0,
      xattrAt: Number.NaN,
    });
  }
  return out;
}

function checkNames(tree: FsTree, dir: Pending): void {
  for (let e = tree.head[FsTree.ROOT] as number; e; e = tree.entryNext[e] as number) {
    const length = tree.entryNameLength[e] as number;
    if (length > NAME_MAX) throw nameError(`${dir.path}/${nameText(tree, e)}`, length);
  }
}

/**
 * Reads sparse files for holes (measure) or takes the runs found then
 * (write). Only files that have holes are remembered (every tar member is
 * scanned, and most have none): one the first walk did not see is taken as
 * without holes, and a changed source is caught by the block count.
 */
function setRuns(listing: Listing, runs: Map<string, number[]>, scan: boolean): void {
  const tree = listing.tree;
  for (const [node, path] of listing.maybeSparse) {
    const key = runsKey(path);
    let found = runs.get(key);
    if (scan) {
      found = scanHoles({
        content: tree.content(node, fileContent),
        size: tree.size[node] as number,
        allocated: tree.allocated.get(node),
      });
      if (found) runs.set(key, found);
    }
    if (found) tree.dataRuns.set(node, found);
  }
}

/**
 * Visits the directories of the sources depth first, each with its listing
 * (names checked); `visit` returns the child directories to visit next, in
 * name order. The order inode numbers follow, as in {@linkcode planFilesystem}.
 */
async function walkDirectories(
  settings: WalkSettings,
  visit: (dir: Pending, listing: Listing, root: boolean) => Pending[] | Promise<Pending[]>,
): Promise<void> {
  const stack: Pending[] = [rootPending(settings.roots)];
  while (stack.length) {
    const dir = stack.pop() as Pending;
    const root = dir.path === "";
    const listing = visitListing(dir, settings, root);
    checkNames(listing.tree, dir);
    const dirs = await visit(dir, listing, root);
    for (let i = dirs.length - 1; i >= 0; i--) stack.push(dirs[i] as Pending);
  }
}

/** The first walk: counts, checks and hole scans, nothing written. */
export async function measureWalk(
  settings: WalkSettings,
  nowSeconds: number,
): Promise<WalkMeasure> {
  const measure: WalkMeasure = {
    inodes: 1,
    plain: new Map(BLOCK_SIZES.map((bs) => [bs, 0])),
    exact: new Map(BLOCK_SIZES.map((bs) => [bs, 0])),
    maxMtime: 0,
    largestFile: { size: 0, path: "" },
    longestSymlink: 0,
    emptySymlink: false,
    runs: new Map(),
  };
  const add = (map: Map<number, number>, bs: number, n: number) =>
    map.set(bs, (map.get(bs) as number) + n);
  const seenLinks = new Set<string>();
  const mtime = (tree: FsTree, n: number) => {
    const m = tree.timeSeconds(n, TimeField.MTIME);
    if (!tree.isCreated(n) && m > measure.maxMtime && m <= nowSeconds) measure.maxMtime = m;
  };
  const xattrBlock = (tree: FsTree, n: number) => {
    if (!needsXattrBlock(tree.xattrs.get(n), settings.inodeSize)) return;
    for (const bs of BLOCK_SIZES) {
      add(measure.plain, bs, 1);
      add(measure.exact, bs, 1);
    }
  };
  await walkDirectories(settings, (dir, listing, root) => {
    const tree = listing.tree;
    mtime(tree, FsTree.ROOT);
    if (root) xattrBlock(tree, FsTree.ROOT);
    const columns = nodeColumns(2);
    const format = settings.format;
    const tail = format.csumSeed !== undefined;
    for (const bs of BLOCK_SIZES) {
      if (dir.lostFound) tree.minBlocks.set(FsTree.ROOT, lostFoundBlocks(bs));
      add(measure.plain, bs, dirMapBlocks(bs / 4, dirBlocks(tree, FsTree.ROOT, bs, tail), format));
      sizeDirectory(
        { tree, ...columns, hashSeed: settings.hashSeed },
        FsTree.ROOT,
        bs,
        dir.lostFound,
        settings.dirIndex,
        format,
      );
      add(measure.exact, bs, dirMapBlocks(bs / 4, columns.dirData[FsTree.ROOT] as number, format));
      columns.indexed[FsTree.ROOT] = 0;
    }
    setRuns(listing, measure.runs, true);
    const counted = new Uint8Array(tree.nodeCount);
    for (let e = tree.head[FsTree.ROOT] as number; e; e = tree.entryNext[e] as number) {
      const child = tree.entryNode[e] as number;
      if (counted[child]) continue;
      counted[child] = 1;
      const key = listing.linkKeys.get(child);
      if (key) {
        if (seenLinks.has(key)) continue;
        seenLinks.add(key);
      }
      measure.inodes++;
      xattrBlock(tree, child);
      const kind = tree.kind[child];
      if (kind === NodeKind.DIR) continue;
      mtime(tree, child);
      if (kind === NodeKind.FILE) {
        const size = tree.size[child] as number;
        if (size > measure.largestFile.size)
          measure.largestFile = { size, path: `${dir.path}/${nameText(tree, e)}` };
        for (const bs of BLOCK_SIZES) {
          const blocks = mapBlocksAnywhere(
            format,
            { addrPerBlock: bs / 4, blockSize: bs },
            presenceFor(tree, child, bs),
          );
          add(measure.plain, bs, blocks);
          add(measure.exact, bs, blocks);
        }
        const path = listing.files.get(child);
        if (path !== undefined) checkReadable(tree, child, path, settings.copier);
      } else if (kind === NodeKind.SYMLINK) {
        const length = tree.size[child] as number;
        if (length === 0) measure.emptySymlink = true;
        measure.longestSymlink = Math.max(measure.longestSymlink, length);
        if (length >= 60) {
          for (const bs of BLOCK_SIZES) {
            add(measure.plain, bs, 1);
            add(measure.exact, bs, 1);
          }
        }
      }
    }
    return [...childDirs(listing, dir, root).values()];
  });
  return measure;
}

function checkReadable(
  tree: FsTree,
  node: number,
  path: string | Buffer,
  copier: RangeCopier | undefined,
): void {
  if (copier) {
    copier.check(path);
    return;
  }
  const content = tree.content(node, fileContent);
  try {
    content.check?.();
  } catch (error) {
    throw new TypeError(`Cannot read ${content.label}: ${(error as Error).message}`);
  }
}

/** Where the image goes: an open file (empty where the image goes) and the image's offset in it. */
export type WalkTarget = FileTarget;

/** The buffer behind blockdev's shared zero views: holes, never written. */
const SHARED_ZEROS = zeros(0).buffer;

function changed(what: string): RangeError {
  return new RangeError(
    `Cannot write the filesystem: ${what} (did the sources change while mkfs ran?)`,
  );
}

/**
 * Writes into the target at image offset `position`. Blocks of zeros are left
 * out: the file starts empty, and no byte is written twice except a link
 * count, which only grows.
 */
function targetWriter(
  target: WalkTarget,
  bs: number,
): (position: number, bytes: Uint8Array) => void {
  return (position, bytes) => {
    writeNonZeroBlocks(target.fd, bytes, target.offset + position, bs, target.placement);
  };
}

/**
 * The second walk: numbers, allocates and writes every directory as it is
 * visited, then the reserved inodes, the journal, bitmaps, descriptors and
 * superblocks; hard-linked files get their final link counts last. File
 * contents go through `settings.copier` when there is one (attached to the
 * same file), else are read and written here.
 */
export async function writeWalk(
  settings: WalkSettings,
  geo: Geometry,
  features: FeatureSet,
  emit: EmitSettings,
  target: WalkTarget,
  runs: Map<string, number[]>,
): Promise<WalkResult> {
  const bs = geo.blockSize;
  const write = targetWriter(target, bs);
  const copier = settings.copier;
  const packer = new Packer(true);
  const maxChunkBlocks = Math.max(1, (1 << 20) / bs);
  const inode = emptyInode();
  const inodeTables = Float64Array.from(
    { length: geo.groupCount },
    (_, g) => groupLayout(geo, g).inodeTable,
  );
  const inodeOffset = (ino: number) =>
    (inodeTables[Math.floor((ino - 1) / geo.inodesPerGroup)] as number) * bs +
    ((ino - 1) % geo.inodesPerGroup) * geo.inodeSize;
  const csumSeed = settings.format.csumSeed;
  const encoded = (ino: number, built: Inode, xattrs: StoredXattr[] | undefined) => {
    const bytes = encodeInode(built, geo.inodeSize, new Uint8Array(geo.inodeSize));
    if (xattrs) writeInodeXattrs(bytes, xattrs);
    if (csumSeed !== undefined) setInodeChecksum(csumSeed, ino, bytes);
    return bytes;
  };
  const writeInode = (ino: number, built: Inode, xattrs?: StoredXattr[]) =>
    write(inodeOffset(ino), encoded(ino, built, xattrs));
  // Hard-linked files: their inode numbers and names so far (link counts are
  // set last; with checksums the inode is kept to be written again whole).
  const links = new Map<
    string,
    { ino: number; count: number; inode?: Inode; xattrs?: StoredXattr[] | undefined }
  >();
  const allocator = new Allocator(geo, {
    features,
    createTime: settings.createTime,
    hashSeed: settings.dirIndex ? settings.hashSeed : undefined,
    uuid: settings.uuid,
  });
  const space = allocator.space;

  const writeRun = async (d0: number, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) => {
    let d = d0;
    const put = (chunk: Uint8Array) => {
      if (chunk.buffer === SHARED_ZEROS) {
        d += chunk.length / bs;
        return;
      }
      for (let at = 0; at < chunk.length; ) {
        const n = Math.min((chunk.length - at) / bs, space.blocksLeftInGroup(d));
        write(space.phys(d) * bs, chunk.subarray(at, at + n * bs));
        at += n * bs;
        d += n;
      }
    };
    for await (const chunk of chunks) put(chunk);
    packer.flush();
    for (const chunk of packer.out.splice(0)) put(chunk);
  };
  await walkDirectories(settings, async (dir, listing, root) => {
    const tree = listing.tree;
    setRuns(listing, runs, false);
    const columns = nodeColumns(tree.nodeCount);
    const plan: NodePlan = {
      geo,
      tree,
      ...columns,
      hashSeed: settings.hashSeed,
      phys: space.phys,
      blocksLeftInGroup: space.blocksLeftInGroup,
      createTime: settings.createTime,
      format: allocator.format,
    };
    const { inoOf, parent, d0 } = columns;
    const pendings = childDirs(listing, dir, root);
    if (!root) {
      inoOf[FsTree.ROOT] = dir.ino;
      parent[FsTree.ROOT] = dir.parentIno;
      if (allocator.sizeDirectory(tree, FsTree.ROOT, columns, dir.lostFound) !== dir.dirData)
        throw changed(`directory ${dir.path} has other entries than a moment ago`);
      d0[FsTree.ROOT] = dir.d0;
      columns.runBlocks[FsTree.ROOT] = dir.runBlocks;
      columns.xattrAt[FsTree.ROOT] = dir.xattrAt;
    }

    // Inode numbers (children in name order) and blocks (in inode order).
    const { fresh } = allocator.directory({
      tree,
      dir: FsTree.ROOT,
      ino: dir.ino,
      columns,
      link: (child) => {
        const key = listing.linkKeys.get(child);
        const known = key ? links.get(key) : undefined;
        if (known) known.count++;
        return (inoOf[child] as number) || (known?.ino ?? 0);
      },
      numbered: (child, ino) => {
        const key = listing.linkKeys.get(child);
        if (key) links.set(key, { ino, count: 1 });
        if (tree.kind[child] !== NodeKind.DIR) columns.links[child] = 1;
      },
      entriesOf: (child) => {
        const names = listNames((pendings.get(child) as Pending).places);
        return { tree: names, node: FsTree.ROOT, columns: nodeColumns(2) };
      },
      path: (e) => `${dir.path}/${nameText(tree, e)}`,
    });
    for (const [child, pending] of pendings) {
      pending.ino = inoOf[child] as number;
      pending.d0 = d0[child] as number;
      pending.dirData = columns.dirData[child] as number;
      pending.runBlocks = columns.runBlocks[child] as number;
      pending.xattrAt = columns.xattrAt[child] as number;
    }
    if (root) {
      dir.d0 = d0[FsTree.ROOT] as number;
      dir.dirData = columns.dirData[FsTree.ROOT] as number;
      dir.runBlocks = columns.runBlocks[FsTree.ROOT] as number;
      dir.xattrAt = columns.xattrAt[FsTree.ROOT] as number;
    }
    if (allocator.lastIno > geo.inodesCount) throw changed(`more than ${geo.inodesCount} inodes`);
    if (allocator.cursor > space.total) throw changed(`more than ${space.total} data blocks`);

    // The directory's inode and blocks, its children's inodes, their contents.
    buildNodeInode(plan, FsTree.ROOT, inode);
    writeInode(dir.ino, inode, tree.xattrs.get(FsTree.ROOT));
    // Attribute blocks placed in this visit (a directory's own was placed by its parent).
    for (let n = root ? FsTree.ROOT : FsTree.ROOT + 1; n < tree.nodeCount; n++) {
      const at = columns.xattrAt[n] as number;
      if (Number.isNaN(at)) continue;
      const xattrs = tree.xattrs.get(n) as StoredXattr[];
      write(space.phys(at) * bs, xattrBlock(xattrs, geo.inodeSize, bs, space.phys(at), csumSeed));
    }
    await writeRun(dir.d0, directoryBlocks(plan, FsTree.ROOT, packer));
    for (const child of fresh) {
      if (tree.kind[child] === NodeKind.DIR) continue;
      buildNodeInode(plan, child, inode);
      const ino = inoOf[child] as number;
      const xattrs = tree.xattrs.get(child);
      writeInode(ino, inode, xattrs);
      const key = csumSeed !== undefined ? listing.linkKeys.get(child) : undefined;
      const linked = key ? links.get(key) : undefined;
      if (linked) {
        linked.inode = { ...inode, block: inode.block.slice() };
        linked.xattrs = xattrs;
      }
    }
    if (copier) {
      await queued(copier, () => {
        for (const child of fresh) queueFileCopy(plan, child, copier, fileContent);
      });
    }
    for (const child of fresh) {
      const at = d0[child] as number;
      if (Number.isNaN(at) || tree.kind[child] === NodeKind.DIR) continue;
      if (tree.kind[child] === NodeKind.SYMLINK) {
        const block = new Uint8Array(bs);
        block.set(tree.target(child));
        write(space.phys(at) * bs, block);
      } else if (!copier || directBlocks(plan, child) < 0) {
        await writeRun(at, fileBlocks(plan, child, maxChunkBlocks, packer, fileContent, !!copier));
      }
    }
    copier?.flush?.();
    return [...pendings.values()];
  });

  // What mkfs makes itself, then the group metadata from the totals.
  const reserved = allocator.reserved;
  if (!reserved) throw new Error("unreachable: the root was not visited");
  for (const [ino, special] of reserved.special) writeInode(ino, special);
  if (!Number.isNaN(reserved.resizeD0)) {
    const block = new Uint8Array(bs);
    fillResizeBlock(geo, block);
    write(space.phys(reserved.resizeD0) * bs, block);
  }
  if (!Number.isNaN(reserved.journalD0)) {
    await writeRun(
      reserved.journalD0,
      journalBlocks({ geo, journalD0: reserved.journalD0, phys: space.phys }, emit.uuid, packer),
    );
  }
  if (space.resizeBlock !== undefined) {
    const block = new Uint8Array(bs);
    fillResizeBlock(geo, block);
    write(space.resizeBlock * bs, block);
  }
  if (reserved.journalOutside) {
    for (const [b, block] of outsideJournal(
      { geo, journalOutside: reserved.journalOutside },
      emit.uuid,
    ))
      write(b * bs, block);
  }
  const summary: PlanSummary = {
    geo,
    features: reserved.features,
    usedData: allocator.cursor,
    lastIno: allocator.lastIno,
    dirsPerGroup: allocator.dirsPerGroup,
    groupDataStart: space.groupDataStart,
    groupDataCount: space.groupDataCount,
    regions: space.regions,
    phys: space.phys,
    blocksLeftInGroup: space.blocksLeftInGroup,
    format: allocator.format,
  };
  if (reserved.journalIBlock) summary.journalIBlock = reserved.journalIBlock;
  const { sb, gdt, counts } = groupMetadata(summary, emit);
  const backups = backupGroupsOf(geo);
  for (const r of space.regions) {
    const g = r.group;
    if (r.kind === "super") write(r.start * bs, superblockBlock(sb, geo, g));
    else if (r.kind === "gdt") write(r.start * bs, gdt);
    else if (r.kind === "rsv" && g === 0) {
      for (let k = 0; k < geo.reservedGdtBlocks; k++)
        write((r.start + k) * bs, reservedGdtBlock(geo, k, backups));
    } else if (r.kind === "bb" || r.kind === "ib") {
      const c = counts[g] as NonNullable<(typeof counts)[number]>;
      const [bb, ib] = groupBitmaps(summary, g, c);
      write(r.start * bs, r.kind === "bb" ? bb : ib);
    }
  }
  // Link counts of hard-linked files, known now (written as 1): i_links_count
  // is the 16-bit word at byte 26 of the inode; with checksums, the whole inode again.
  const linkCount = new Uint8Array(2);
  for (const { ino, count, inode: kept, xattrs } of links.values()) {
    if (count > 65000) throw linksError(count);
    if (count === 1) continue;
    if (kept) {
      kept.linksCount = count;
      writeInode(ino, kept, xattrs);
      continue;
    }
    linkCount[0] = count & 0xff;
    linkCount[1] = count >>> 8;
    write(inodeOffset(ino) + 26, linkCount);
  }
  return {
    lastIno: allocator.lastIno,
    usedData: allocator.cursor,
    placedTreeBlocks: allocator.placedTreeBlocks,
  };
}
