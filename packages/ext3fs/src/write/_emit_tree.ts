import { type CopyPool, zeros } from "@bigfile/blockdev";
import {
  DefaultMount,
  ErrorsBehavior,
  FsState,
  HashVersion,
  InodeNumber,
  Jbd2,
  SuperFlags,
} from "../format/constants.ts";
import { encodeGroupDescriptor } from "../format/group_descriptor.ts";
import { emptyInode, encodeInode } from "../format/inode.ts";
import { encodeJournalSuperblock } from "../format/journal_superblock.ts";
import { emptySuperblock, encodeSuperblock, type Superblock } from "../format/superblock.ts";
import { BlockMap, BlockPresence } from "./_block_map.ts";
import { fileContent } from "./_content_file.ts";
import { type PlannedEntry, packDirectory, writeDirBlock } from "./_dir_pack.ts";
import { writeHtreeNode, writeHtreeRoot } from "./_htree.ts";
import {
  buildInode,
  dirEntries,
  directBlocks,
  htreeLayoutOf,
  type NodePlan,
  type Plan,
  plannedEntry,
  presenceFor,
} from "./_plan.ts";
import { groupHasSuper, groupLayout } from "./geometry.ts";
import { type ContentFactory, NodeKind } from "./tree.ts";

/** Identity and times of the filesystem being written. */
export interface EmitSettings {
  uuid: Uint8Array;
  hashSeed: Uint8Array;
  label: Uint8Array;
  /** s_mkfs_time, s_wtime, s_lastcheck. */
  time: number;
}

const CHUNK = 1 << 20;
/** The buffer behind blockdev's shared zero views, which sinks skip. */
const SHARED_ZEROS = zeros(0).buffer;

/**
 * Copies file contents into the output by itself, and checks that source
 * files can be read: a blockdev `CopyPool` attached where the image starts
 * (`copy` takes byte offsets of the image), or anything shaped like it.
 * `finish` resolves when every range is in place (the stream ends only then).
 */
export type RangeCopier = Pick<CopyPool, "copy" | "check" | "finish"> &
  Partial<Pick<CopyPool, "flush" | "close" | "dataRuns">>;

/** How {@linkcode emitFilesystem} hands out its chunks. */
export interface EmitOptions {
  /** Chunks are views of a few reused buffers: consume each before pulling the next. */
  reuseBuffers?: boolean;
  /**
   * File contents that the copier can read (files of directory sources and
   * the tar spool) go through it; the stream holds zero blocks in their place.
   * Only for a sink that never writes zero blocks of the image's block size.
   */
  copier?: RangeCopier;
  /**
   * The file the sink writes into, empty, and where the image starts in it
   * (a sink's `onSparseTarget`): mkfs's walk writer writes there by position
   * and the stream only holds holes. The tree writer does not use it.
   */
  target?: { fd: number; offset: number };
}

/** Coalesces small pieces into ~1 MiB chunks; big pieces and zero runs pass through. */
export class Packer {
  readonly #reuse: boolean;
  readonly #spare: Uint8Array[] = [];
  #buf: Uint8Array = new Uint8Array(CHUNK);

  /** With `reuse`, two buffers alternate: each flushed chunk must be consumed before the next flush. */
  constructor(reuse = false) {
    this.#reuse = reuse;
    if (reuse) this.#spare.push(new Uint8Array(CHUNK));
  }
  #used = 0;
  readonly out: Uint8Array[] = [];

  /** Adds bytes (copied if small; views of the shared zero buffer stay a hole). */
  push(bytes: Uint8Array): void {
    if (bytes.buffer === SHARED_ZEROS) {
      this.hole(bytes.length);
      return;
    }
    this.#emitHole();
    if (bytes.length >= CHUNK / 4) {
      this.flush();
      this.out.push(bytes);
      return;
    }
    if (this.#used + bytes.length > CHUNK) this.flush();
    this.#buf.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  /**
   * Adds `n` zero bytes as views of the shared zero buffer, never packed with
   * other bytes: a sink skips them without looking (the copier's blocks).
   */
  hole(n: number): void {
    // Pending bytes go out first; a pending hole just grows (one chunk per
    // mebibyte of holes, not one per file the copier writes).
    if (this.#used > 0) this.flush();
    this.#hole += n;
  }
  #hole = 0;

  #emitHole(): void {
    for (; this.#hole > 0; this.#hole -= Math.min(this.#hole, CHUNK)) {
      this.out.push(zeros(Math.min(this.#hole, CHUNK)));
    }
  }

  /** Adds `n` zero bytes. */
  zero(n: number): void {
    if (this.#hole > 0) {
      this.#hole += n;
      return;
    }
    if (n >= CHUNK / 4) {
      this.flush();
      for (let left = n; left > 0; left -= CHUNK) this.out.push(zeros(Math.min(left, CHUNK)));
      return;
    }
    if (this.#used + n > CHUNK) this.flush();
    if (this.#reuse) this.#buf.fill(0, this.#used, this.#used + n);
    this.#used += n;
  }

  /** A zeroed region of `n` bytes (less than a quarter chunk) in the pending chunk, to fill in place. */
  take(n: number): Uint8Array {
    this.#emitHole();
    if (this.#used + n > CHUNK) this.flush();
    const region = this.#buf.subarray(this.#used, this.#used + n);
    if (this.#reuse) region.fill(0);
    this.#used += n;
    return region;
  }

  /**
   * A zeroed buffer of `n` bytes (at most one chunk) for a big piece, to fill
   * and then hand to {@linkcode Packer.push}. With `reuse`, one buffer serves
   * every big piece: push it before asking for the next.
   */
  takeBig(n: number): Uint8Array {
    this.flush();
    this.#emitHole();
    if (!this.#reuse) return new Uint8Array(n);
    this.#big ??= new Uint8Array(CHUNK);
    return this.#big.subarray(0, n).fill(0);
  }
  #big: Uint8Array | undefined;

  /** Moves pending bytes (or a pending hole) to `out`. */
  flush(): void {
    this.#emitHole();
    if (this.#used > 0) {
      this.out.push(this.#buf.subarray(0, this.#used));
      if (this.#reuse) {
        const next = this.#spare.pop() as Uint8Array;
        this.#spare.push(this.#buf);
        this.#buf = next;
      } else this.#buf = new Uint8Array(CHUNK);
      this.#used = 0;
    }
  }
}

/** What the superblock, descriptors and bitmaps are made from: a plan's totals. */
export type PlanSummary = Pick<
  Plan,
  | "geo"
  | "features"
  | "journalIBlock"
  | "usedData"
  | "lastIno"
  | "dirsPerGroup"
  | "groupDataStart"
  | "groupDataCount"
>;

/** Builds the primary superblock of a plan. */
export function buildSuperblock(
  plan: PlanSummary,
  settings: EmitSettings,
  freeBlocks: number,
  freeInodes: number,
): Superblock {
  const geo = plan.geo;
  const sb = emptySuperblock();
  sb.inodesCount = geo.inodesCount;
  sb.blocksCount = geo.blocksCount;
  sb.rBlocksCount = geo.rBlocksCount;
  sb.freeBlocksCount = freeBlocks;
  sb.freeInodesCount = freeInodes;
  sb.firstDataBlock = geo.firstDataBlock;
  sb.logBlockSize = geo.logBlockSize;
  sb.logClusterSize = geo.logBlockSize;
  sb.blocksPerGroup = geo.blocksPerGroup;
  sb.clustersPerGroup = geo.blocksPerGroup;
  sb.inodesPerGroup = geo.inodesPerGroup;
  sb.mtime = 0;
  sb.wtime = settings.time;
  sb.maxMntCount = -1;
  sb.state = FsState.VALID;
  sb.errors = ErrorsBehavior.CONTINUE;
  sb.lastcheck = settings.time;
  sb.revLevel = 1;
  sb.firstIno = InodeNumber.FIRST;
  sb.inodeSize = geo.inodeSize;
  sb.featureCompat = plan.features.compat;
  sb.featureIncompat = plan.features.incompat;
  sb.featureRoCompat = plan.features.roCompat;
  sb.uuid = settings.uuid;
  sb.volumeName = settings.label;
  sb.reservedGdtBlocks = geo.reservedGdtBlocks;
  const seed = new DataView(settings.hashSeed.buffer, settings.hashSeed.byteOffset, 16);
  for (let i = 0; i < 4; i++) sb.hashSeed[i] = seed.getUint32(i * 4, true);
  sb.defHashVersion = HashVersion.HALF_MD4;
  sb.defaultMountOpts = DefaultMount.XATTR_USER | DefaultMount.ACL;
  sb.mkfsTime = settings.time;
  sb.flags = SuperFlags.SIGNED_HASH;
  if (geo.inodeSize > 128) {
    sb.minExtraIsize = 32;
    sb.wantExtraIsize = 32;
  }
  let overhead = geo.firstDataBlock + geo.journalBlocks;
  for (let g = 0; g < geo.groupCount; g++) {
    const l = groupLayout(geo, g);
    overhead += l.dataStart - l.start;
  }
  if (!plan.journalIBlock) overhead -= geo.journalBlocks;
  sb.overheadClusters = overhead;
  if (plan.journalIBlock) {
    sb.journalInum = InodeNumber.JOURNAL;
    sb.jnlBackupType = Jbd2.BACKUP_INODE_BLOCKS;
    sb.jnlBlocks.set(plan.journalIBlock, 0);
    sb.jnlBlocks[15] = Math.floor((geo.journalBlocks * geo.blockSize) / 2 ** 32);
    sb.jnlBlocks[16] = (geo.journalBlocks * geo.blockSize) % 2 ** 32;
  }
  return sb;
}

/** Per-group counts. */
export interface GroupCounts {
  freeBlocks: number;
  freeInodes: number;
  usedData: number;
  usedInodes: number;
}

function groupCounts(plan: PlanSummary, g: number): GroupCounts {
  const geo = plan.geo;
  const l = groupLayout(geo, g);
  const dataCount = plan.groupDataCount[g] as number;
  const usedData = Math.min(
    Math.max(plan.usedData - (plan.groupDataStart[g] as number), 0),
    dataCount,
  );
  const usedInodes = Math.min(
    Math.max(plan.lastIno - g * geo.inodesPerGroup, 0),
    geo.inodesPerGroup,
  );
  return {
    freeBlocks: l.end - l.dataStart - usedData,
    freeInodes: geo.inodesPerGroup - usedInodes,
    usedData,
    usedInodes,
  };
}

function setBits(bitmap: Uint8Array, from: number, to: number): void {
  let i = from;
  while (i < to && i & 7) {
    bitmap[i >>> 3] = (bitmap[i >>> 3] as number) | (1 << (i & 7));
    i++;
  }
  if (to - i >= 8) {
    bitmap.fill(0xff, i >>> 3, to >>> 3);
    i = to & ~7;
  }
  while (i < to) {
    bitmap[i >>> 3] = (bitmap[i >>> 3] as number) | (1 << (i & 7));
    i++;
  }
}

/**
 * A source of data-area blocks: every run in allocation order, packed into
 * chunks of whole blocks (about 1 MiB; big file pieces pass through as their own chunks).
 */
async function* dataArea(
  plan: Plan,
  uuid: Uint8Array,
  maxChunkBlocks: number,
  reuse: boolean,
  contentFactory: ContentFactory,
  copied: Uint8Array | undefined,
): AsyncGenerator<Uint8Array> {
  const geo = plan.geo;
  const bs = geo.blockSize;
  const packer = new Packer(reuse);
  const tree = plan.tree;
  const order: number[] = [plan.byIno[2] as number];
  const lf = plan.byIno[11] as number;
  const lfIsDir = lf !== 0 && tree.kind[lf] === NodeKind.DIR;
  if (lfIsDir) order.push(lf);
  for (const node of order) yield* dirBlocks(plan, node, packer);
  yield* packer.out.splice(0);
  if (!Number.isNaN(plan.resizeD0)) {
    fillResizeBlock(geo, packer.take(bs));
  }
  if (!Number.isNaN(plan.journalD0)) yield* journalBlocks(plan, uuid, packer);
  for (let ino = 11; ino <= plan.lastIno; ino++) {
    if (ino === 11 && lfIsDir) continue;
    const node = plan.byIno[ino] as number;
    if (Number.isNaN(plan.d0[node] as number)) continue;
    const kind = tree.kind[node];
    if (kind === NodeKind.DIR) yield* dirBlocks(plan, node, packer);
    else if (kind === NodeKind.SYMLINK) packer.take(bs).set(tree.target(node));
    else {
      // The common case inline (no generator per file): a hole the copier fills.
      const direct = copied?.[ino] ? directBlocks(plan, node) : -1;
      if (direct >= 0) packer.hole(direct * bs);
      else
        yield* fileBlocks(plan, node, maxChunkBlocks, packer, contentFactory, copied?.[ino] === 1);
    }
    if (packer.out.length > 0) yield* packer.out.splice(0);
  }
  packer.flush();
  yield* packer.out.splice(0);
}

/** The resize inode's double-indirect block: it points at the reserved GDT blocks. */
export function fillResizeBlock(geo: Plan["geo"], block: Uint8Array): void {
  const v = new DataView(block.buffer, block.byteOffset, geo.blockSize);
  for (let k = 0; k < geo.reservedGdtBlocks; k++) {
    v.setUint32(
      ((geo.descBlocks + k) % geo.addrPerBlock) * 4,
      geo.firstDataBlock + 1 + geo.descBlocks + k,
      true,
    );
  }
}

/** The journal's blocks (map blocks, its superblock, zeros) in D-space order. */
export function* journalBlocks(
  plan: Pick<Plan, "geo" | "journalD0" | "phys">,
  uuid: Uint8Array,
  packer: Packer,
): Generator<Uint8Array> {
  const geo = plan.geo;
  const bs = geo.blockSize;
  const d0 = plan.journalD0;
  const map = new BlockMap(geo.addrPerBlock, new BlockPresence(geo.journalBlocks));
  for (const item of map.layout((p) => plan.phys(d0 + p))) {
    if (item.kind === "map") {
      pointerBlock(item.pointers, packer.take(bs));
      continue;
    }
    let left = item.count;
    if (item.logical === 0) {
      const block = packer.take(bs);
      encodeJournalSuperblock(
        {
          magic: Jbd2.MAGIC,
          blocktype: Jbd2.SUPERBLOCK_V2,
          sequence: 0,
          blocksize: bs,
          maxlen: geo.journalBlocks,
          first: 1,
          sSequence: 1,
          start: 0,
          errno: 0,
          featureCompat: 0,
          featureIncompat: 0,
          featureRoCompat: 0,
          uuid,
          nrUsers: 1,
          dynsuper: 0,
          maxTransaction: 0,
          maxTransData: 0,
          checksumType: 0,
          numFcBlocks: 0,
          checksum: 0,
          users: new Uint8Array(0),
        },
        block,
      );
      left--;
    }
    if (left > 0) {
      packer.zero(left * bs);
      yield* packer.out.splice(0);
    }
  }
  packer.flush();
  yield* packer.out.splice(0);
}

/** The blocks of directory row `node` (data and map blocks, in D-space order). */
export function* dirBlocks(plan: NodePlan, node: number, packer: Packer): Generator<Uint8Array> {
  const geo = plan.geo;
  const bs = geo.blockSize;
  const ino = plan.inoOf[node] as number;
  const d0 = plan.d0[node] as number;
  const map = new BlockMap(geo.addrPerBlock, new BlockPresence(plan.dirData[node] as number));
  let blockAt: (logical: number, block: Uint8Array) => void;
  if (plan.indexed[node]) {
    const indexed = htreeLayoutOf(plan.tree, node, plan.hashSeed, bs) as NonNullable<
      ReturnType<typeof htreeLayoutOf>
    >;
    const layout = indexed.layout;
    const entries: PlannedEntry[] = Array.from(indexed.entries, (e) => plannedEntry(plan, e));
    blockAt = (logical, block) => {
      if (logical === 0) writeHtreeRoot(layout, ino, plan.parent[node] as number, block);
      else if (logical <= layout.nodes) writeHtreeNode(layout, logical - 1, block);
      else {
        const leaf = logical - 1 - layout.nodes;
        writeDirBlock(
          entries,
          layout.leafStarts[leaf] as number,
          layout.leafStarts[leaf + 1] as number,
          block,
        );
      }
    };
  } else {
    const entries = dirEntries(plan, node);
    const starts = packDirectory(
      entries.map((e) => e.name.length),
      bs,
    );
    blockAt = (logical, block) => {
      const from = logical < starts.length ? (starts[logical] as number) : 0;
      const to =
        logical < starts.length
          ? ((starts[logical + 1] as number | undefined) ?? entries.length)
          : 0;
      writeDirBlock(entries, from, to, block);
    };
  }
  let logical = 0;
  for (const item of map.layout((p) => plan.phys(d0 + p))) {
    if (item.kind === "map") {
      pointerBlock(item.pointers, packer.take(bs));
      continue;
    }
    for (let i = 0; i < item.count; i++, logical++) {
      blockAt(logical, packer.take(bs));
      if (packer.out.length > 0) yield* packer.out.splice(0);
    }
  }
}

/**
 * The blocks of file row `node` in D-space order: its map blocks, and its
 * contents read with `contentFactory` (or holes, when `copied` says the
 * copier writes them).
 */
export async function* fileBlocks(
  plan: NodePlan,
  node: number,
  maxChunkBlocks: number,
  packer: Packer,
  contentFactory: ContentFactory,
  copied: boolean,
): AsyncGenerator<Uint8Array> {
  const bs = plan.geo.blockSize;
  const d0 = plan.d0[node] as number;
  const size = plan.tree.size[node] as number;
  const map = new BlockMap(plan.geo.addrPerBlock, presenceFor(plan.tree, node, bs));
  if (copied) {
    // The copier writes the contents straight into the output; the stream
    // carries its map blocks, and holes where the data goes.
    for (const item of map.layout((p) => plan.phys(d0 + p))) {
      if (item.kind === "map") pointerBlock(item.pointers, packer.take(bs));
      else packer.hole(item.count * bs);
      if (packer.out.length > 0) yield* packer.out.splice(0);
    }
    return;
  }
  const content = plan.tree.content(node, contentFactory);
  await content.open?.();
  try {
    for (const item of map.layout((p) => plan.phys(d0 + p))) {
      if (item.kind === "map") {
        pointerBlock(item.pointers, packer.take(bs));
        if (packer.out.length > 0) yield* packer.out.splice(0);
        continue;
      }
      for (let done = 0; done < item.count; ) {
        const n = Math.min(item.count - done, maxChunkBlocks);
        // Read straight into the chunk being packed (or, for big pieces, a chunk of their own).
        const big = n * bs >= CHUNK / 4;
        const buf = big ? packer.takeBig(n * bs) : packer.take(n * bs);
        const position = (item.logical + done) * bs;
        const want = Math.min(buf.length, size - position);
        let got = 0;
        while (got < want) {
          const r = await content.read(position + got, buf.subarray(got, want));
          if (r <= 0) break;
          got += r;
        }
        if (got < want) {
          throw new RangeError(
            `Cannot read ${content.label}: it ended at ${position + got} bytes, expected ${size} (changed while mkfs ran?)`,
          );
        }
        if (big) packer.push(buf);
        if (packer.out.length > 0) yield* packer.out.splice(0);
        done += n;
      }
    }
  } finally {
    await content.close?.();
  }
}

/**
 * Hands the copier every file's contents it can read (all but contents without
 * a `source`), in image order; returns which inodes it took.
 */
function queueCopies(plan: Plan, copier: RangeCopier, contentFactory: ContentFactory): Uint8Array {
  const taken = new Uint8Array(plan.lastIno + 1);
  for (let ino = 11; ino <= plan.lastIno; ino++) {
    if (queueFileCopy(plan, plan.byIno[ino] as number, copier, contentFactory)) taken[ino] = 1;
  }
  copier.flush?.();
  return taken;
}

/**
 * Hands the copier the contents of file row `node` (false: not a file with
 * blocks, or contents without a `source` file, which the stream reads).
 */
export function queueFileCopy(
  plan: NodePlan,
  node: number,
  copier: RangeCopier,
  contentFactory: ContentFactory,
): boolean {
  const tree = plan.tree;
  const bs = plan.geo.blockSize;
  const d0 = plan.d0[node] as number;
  if (Number.isNaN(d0) || tree.kind[node] !== NodeKind.FILE) return false;
  const source =
    contentFactory === fileContent ? tree.source(node) : tree.content(node, contentFactory).source;
  if (!source) return false;
  const size = tree.size[node] as number;
  const direct = directBlocks(plan, node);
  const items =
    direct >= 0
      ? [{ kind: "data" as const, logical: 0, count: direct }]
      : new BlockMap(plan.geo.addrPerBlock, presenceFor(tree, node, bs)).layout();
  let d = d0;
  for (const item of items) {
    if (item.kind === "map") {
      d++;
      continue;
    }
    // A run of blocks stays contiguous in the image up to its group's end.
    for (let done = 0; done < item.count; ) {
      const n = Math.min(item.count - done, plan.blocksLeftInGroup(d));
      const position = (item.logical + done) * bs;
      copier.copy(
        source.path,
        source.offset + position,
        Math.min(n * bs, size - position),
        plan.phys(d) * bs,
        source.label,
      );
      d += n;
      done += n;
    }
  }
  return true;
}

/**
 * Runs `queue` (calls to the copier); if the copier refuses a call because
 * an earlier one failed, throws that failure, which the copier's `finish`
 * tells.
 */
export async function queued<T>(copier: RangeCopier, queue: () => T): Promise<T> {
  try {
    return queue();
  } catch (error) {
    await copier.finish();
    throw error;
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

function pointerBlock(pointers: Uint32Array, out: Uint8Array): void {
  if (LITTLE_ENDIAN && (out.byteOffset & 3) === 0) {
    new Uint32Array(out.buffer, out.byteOffset, pointers.length).set(pointers);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset, pointers.length * 4);
  for (let i = 0; i < pointers.length; i++) {
    const p = pointers[i] as number;
    if (p !== 0) view.setUint32(i * 4, p, true);
  }
}

/** The superblock, the group descriptor table and each group's counts. */
export function groupMetadata(
  plan: PlanSummary,
  settings: EmitSettings,
): { sb: Superblock; gdt: Uint8Array; counts: GroupCounts[] } {
  const geo = plan.geo;
  const counts: GroupCounts[] = [];
  let freeBlocks = 0;
  let freeInodes = 0;
  for (let g = 0; g < geo.groupCount; g++) {
    const c = groupCounts(plan, g);
    counts.push(c);
    freeBlocks += c.freeBlocks;
    freeInodes += c.freeInodes;
  }
  const sb = buildSuperblock(plan, settings, freeBlocks, freeInodes);
  const gdt = new Uint8Array(geo.descBlocks * geo.blockSize);
  for (let g = 0; g < geo.groupCount; g++) {
    const l = groupLayout(geo, g);
    const c = counts[g] as GroupCounts;
    encodeGroupDescriptor(
      {
        blockBitmap: l.blockBitmap,
        inodeBitmap: l.inodeBitmap,
        inodeTable: l.inodeTable,
        freeBlocksCount: c.freeBlocks,
        freeInodesCount: c.freeInodes,
        usedDirsCount: plan.dirsPerGroup[g] as number,
        flags: 0,
        excludeBitmap: 0,
        blockBitmapCsum: 0,
        inodeBitmapCsum: 0,
        itableUnused: 0,
        checksum: 0,
      },
      gdt.subarray(g * 32, g * 32 + 32),
    );
  }
  return { sb, gdt, counts };
}

/** The groups that hold superblock backups. */
export function backupGroupsOf(geo: Plan["geo"]): number[] {
  const groups: number[] = [];
  for (let g = 1; g < geo.groupCount; g++) if (groupHasSuper(g)) groups.push(g);
  return groups;
}

/** Group `g`'s first block: the superblock (a copy numbered `g`). */
export function superblockBlock(sb: Superblock, geo: Plan["geo"], g: number): Uint8Array {
  const block = new Uint8Array(geo.blockSize);
  sb.blockGroupNr = g;
  if (g === 0 && geo.blockSize > 1024) encodeSuperblock(sb, block.subarray(1024, 2048));
  else encodeSuperblock(sb, block.subarray(0, 1024));
  return block;
}

/** Reserved GDT block `k` of group 0: the resize inode's list of its backups. */
export function reservedGdtBlock(geo: Plan["geo"], k: number, backupGroups: number[]): Uint8Array {
  const block = new Uint8Array(geo.blockSize);
  const v = new DataView(block.buffer);
  const pblk = geo.firstDataBlock + 1 + geo.descBlocks + k;
  backupGroups.forEach((bg, j) => {
    if (j < geo.addrPerBlock) v.setUint32(j * 4, pblk + bg * geo.blocksPerGroup, true);
  });
  return block;
}

/** Group `g`'s block and inode bitmaps: allocation is a prefix of each group. */
export function groupBitmaps(
  geo: Plan["geo"],
  g: number,
  c: GroupCounts,
): [Uint8Array, Uint8Array] {
  const bs = geo.blockSize;
  const l = groupLayout(geo, g);
  const bb = new Uint8Array(bs);
  setBits(bb, 0, l.dataStart - l.start + c.usedData);
  setBits(bb, l.end - l.start, bs * 8);
  const ib = new Uint8Array(bs);
  setBits(ib, 0, c.usedInodes);
  setBits(ib, geo.inodesPerGroup, bs * 8);
  return [bb, ib];
}

/**
 * Emits the planned filesystem as a byte stream, blocks in increasing order:
 * every group's superblock backup, descriptors, reserved GDT blocks, bitmaps
 * and inode table, then its data blocks, pulling file contents only when their
 * blocks come up.
 */
export async function* emitFilesystem(
  plan: Plan,
  settings: EmitSettings,
  contentFactory: ContentFactory,
  options: EmitOptions = {},
): AsyncGenerator<Uint8Array> {
  yield* withCopier(options.copier, emitStream(plan, settings, contentFactory, options));
}

/**
 * Passes `chunks` on, then waits for the copier's copies: the stream ends
 * only when the image is complete. Stopped early (a failure here or in the
 * sink), it stops the copier's threads (each finishes the write it is in)
 * before the sink closes the output.
 */
export async function* withCopier(
  copier: RangeCopier | undefined,
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let finished = false;
  try {
    yield* chunks;
    await copier?.finish();
    finished = true;
  } finally {
    if (!finished) await copier?.close?.();
  }
}

/**
 * Waits for the checks (and hole scans) handed to the copier while the
 * sources were read: an unreadable file fails here, before any output.
 */
export async function checksDone(copier: RangeCopier | undefined): Promise<void> {
  try {
    await copier?.finish();
  } catch (error) {
    throw new TypeError((error as Error).message);
  }
}

async function* emitStream(
  plan: Plan,
  settings: EmitSettings,
  contentFactory: ContentFactory,
  options: EmitOptions = {},
): AsyncGenerator<Uint8Array> {
  const geo = plan.geo;
  const bs = geo.blockSize;
  const { sb, gdt, counts } = groupMetadata(plan, settings);
  let backupGroups = backupGroupsOf(geo);
  const maxChunkBlocks = Math.max(1, CHUNK / bs);
  const reuse = options.reuseBuffers ?? false;
  // The copier starts on every file's contents now, while the metadata is written.
  const copied = options.copier
    ? await queued(options.copier, () =>
        queueCopies(plan, options.copier as RangeCopier, contentFactory),
      )
    : undefined;
  const data = dataArea(plan, settings.uuid, maxChunkBlocks, reuse, contentFactory, copied);
  let pending: Uint8Array<ArrayBufferLike> | undefined;
  const packer = new Packer(reuse);
  const inodeBytes = new Uint8Array(geo.inodeSize);
  const inode = emptyInode();

  if (geo.firstDataBlock === 1) packer.zero(1024);
  for (let g = 0; g < geo.groupCount; g++) {
    const l = groupLayout(geo, g);
    const c = counts[g] as GroupCounts;
    if (l.hasSuper) {
      packer.push(superblockBlock(sb, geo, g));
      yield* packer.out.splice(0);
      packer.push(gdt);
      yield* packer.out.splice(0);
      if (g === 0) {
        for (let k = 0; k < geo.reservedGdtBlocks; k++) {
          packer.push(reservedGdtBlock(geo, k, backupGroups));
          yield* packer.out.splice(0);
        }
      } else packer.zero(geo.reservedGdtBlocks * bs);
      yield* packer.out.splice(0);
    }
    const [bb, ib] = groupBitmaps(geo, g, c);
    packer.push(bb);
    yield* packer.out.splice(0);
    packer.push(ib);
    yield* packer.out.splice(0);
    // Inode table.
    const first = g * geo.inodesPerGroup + 1;
    const lastUsed = Math.min(plan.lastIno, first + geo.inodesPerGroup - 1);
    for (let ino = first; ino <= lastUsed; ino++) {
      if (buildInode(plan, ino, inode)) {
        inodeBytes.fill(0);
        packer.push(encodeInode(inode, geo.inodeSize, inodeBytes));
        if (packer.out.length > 0) yield* packer.out.splice(0);
      } else {
        packer.zero(geo.inodeSize);
        if (packer.out.length > 0) yield* packer.out.splice(0);
      }
    }
    const usedBytes = Math.max(0, lastUsed - first + 1) * geo.inodeSize;
    packer.zero(geo.inodeTableBlocks * bs - usedBytes);
    yield* packer.out.splice(0);
    // Data blocks.
    let left = l.end - l.dataStart;
    while (left > 0) {
      if (!pending) {
        const next = await data.next();
        if (next.done) break;
        pending = next.value;
      }
      const blocks = pending.length / bs;
      if (blocks <= left) {
        packer.push(pending);
        left -= blocks;
        pending = undefined;
      } else {
        packer.push(pending.subarray(0, left * bs));
        pending = pending.subarray(left * bs);
        left = 0;
      }
      if (packer.out.length > 0) yield* packer.out.splice(0);
    }
    if (left > 0) packer.zero(left * bs);
    if (packer.out.length > 0) yield* packer.out.splice(0);
  }
  backupGroups = [];
  packer.flush();
  yield* packer.out.splice(0);
}
