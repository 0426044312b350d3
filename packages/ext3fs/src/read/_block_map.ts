import { EXTENTS_FL, type ReaderInode } from "./_decode_inode.ts";
import { ExtCorruptionError } from "./errors.ts";

/** A run of contiguous blocks: `length` file blocks from `logical` live at `physical`. */
export interface BlockRun {
  logical: number;
  physical: number;
  length: number;
  /** An unwritten (preallocated) extent: reads as zeros. */
  uninit: boolean;
}

/** What walking a block map needs from the filesystem. */
export interface BlockMapContext {
  blockSize: number;
  blocksCount: number;
  firstDataBlock: number;
  readBlock(block: number): Promise<Uint8Array>;
  /** Called for every metadata block of the map (indirect blocks, extent tree nodes). */
  onMetaBlock?: (block: number, ino: number) => void;
  /**
   * Called for faults the map can be read past (a zero-length extent, an
   * index entry whose start differs from its child's first extent); without
   * it they are skipped silently.
   */
  onIssue?: (message: string, offset: number) => void;
}

// The kernel builds at most 5 levels; e2fsck reads deeper trees (and offers
// to make them shallower), so the reader does too, within a hard bound.
const MAX_EXTENT_DEPTH = 32;

function checkBlock(
  ctx: BlockMapContext,
  block: number,
  length: number,
  ino: number,
  offset: number,
  what: string,
): void {
  if (block < ctx.firstDataBlock || block + length > ctx.blocksCount || block === 0) {
    throw new ExtCorruptionError(
      `Cannot map inode ${ino}: ${what} ${block}${length > 1 ? `+${length}` : ""} lies outside the filesystem (blocks ${ctx.firstDataBlock}-${ctx.blocksCount - 1})`,
      offset,
    );
  }
}

/**
 * Yields the runs of blocks an inode maps, in logical order, up to (not
 * including) file block `limit`. Indirect maps and extent trees are checked
 * as they are read: out-of-range pointers, metadata blocks used twice, bad
 * extent headers and unordered extents raise {@linkcode ExtCorruptionError}.
 */
export async function* blockRuns(
  ctx: BlockMapContext,
  inode: ReaderInode,
  limit: number,
): AsyncGenerator<BlockRun> {
  const source =
    inode.flags & EXTENTS_FL ? extentRuns(ctx, inode, limit) : indirectRuns(ctx, inode, limit);
  let pending: BlockRun | undefined;
  for await (const run of source) {
    if (
      pending &&
      pending.uninit === run.uninit &&
      pending.logical + pending.length === run.logical &&
      pending.physical + pending.length === run.physical
    ) {
      pending.length += run.length;
      continue;
    }
    if (pending) yield pending;
    pending = { ...run };
  }
  if (pending) yield pending;
}

async function* indirectRuns(
  ctx: BlockMapContext,
  inode: ReaderInode,
  limit: number,
): AsyncGenerator<BlockRun> {
  const apb = ctx.blockSize / 4;
  const root = new DataView(inode.block.buffer, inode.block.byteOffset, 60);
  const seen = new Set<number>();
  for (let i = 0; i < 12 && i < limit; i++) {
    const block = root.getUint32(i * 4, true);
    if (block === 0) continue;
    checkBlock(ctx, block, 1, inode.ino, inode.offset + 40 + i * 4, "block");
    yield { logical: i, physical: block, length: 1, uninit: false };
  }
  let base = 12;
  let span = apb;
  for (let level = 1; level <= 3; level++) {
    if (base >= limit) return;
    const block = root.getUint32((11 + level) * 4, true);
    if (block !== 0) {
      yield* walkIndirect(
        ctx,
        inode,
        block,
        level,
        base,
        limit,
        seen,
        inode.offset + 40 + (11 + level) * 4,
      );
    }
    base += span;
    span *= apb;
  }
}

async function* walkIndirect(
  ctx: BlockMapContext,
  inode: ReaderInode,
  block: number,
  level: number,
  base: number,
  limit: number,
  seen: Set<number>,
  pointerOffset: number,
): AsyncGenerator<BlockRun> {
  checkBlock(ctx, block, 1, inode.ino, pointerOffset, "indirect block");
  if (seen.has(block)) {
    throw new ExtCorruptionError(
      `Cannot map inode ${inode.ino}: indirect block ${block} is used twice in its block map`,
      pointerOffset,
    );
  }
  seen.add(block);
  ctx.onMetaBlock?.(block, inode.ino);
  const bytes = await ctx.readBlock(block);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const apb = ctx.blockSize / 4;
  const childSpan = apb ** (level - 1);
  if (level === 1) {
    // Data pointers: coalesce contiguous ones here, one yield per run.
    let run: BlockRun | undefined;
    for (let i = 0; i < apb; i++) {
      const logical = base + i;
      if (logical >= limit) break;
      const child = view.getUint32(i * 4, true);
      if (child === 0) continue;
      checkBlock(ctx, child, 1, inode.ino, block * ctx.blockSize + i * 4, "block");
      if (run && run.logical + run.length === logical && run.physical + run.length === child) {
        run.length++;
        continue;
      }
      if (run) yield run;
      run = { logical, physical: child, length: 1, uninit: false };
    }
    if (run) yield run;
    return;
  }
  for (let i = 0; i < apb; i++) {
    const logical = base + i * childSpan;
    if (logical >= limit) return;
    const child = view.getUint32(i * 4, true);
    if (child === 0) continue;
    yield* walkIndirect(
      ctx,
      inode,
      child,
      level - 1,
      logical,
      limit,
      seen,
      block * ctx.blockSize + i * 4,
    );
  }
}

async function* extentRuns(
  ctx: BlockMapContext,
  inode: ReaderInode,
  limit: number,
): AsyncGenerator<BlockRun> {
  const state = { next: 0, seen: new Set<number>() };
  yield* walkExtentNode(ctx, inode, inode.block, inode.offset + 40, -1, limit, state);
}

async function* walkExtentNode(
  ctx: BlockMapContext,
  inode: ReaderInode,
  node: Uint8Array,
  nodeOffset: number,
  expectedDepth: number,
  limit: number,
  state: { next: number; seen: Set<number> },
): AsyncGenerator<BlockRun> {
  const v = new DataView(node.buffer, node.byteOffset, node.byteLength);
  const fail = (message: string, at = 0): never => {
    throw new ExtCorruptionError(`Cannot map inode ${inode.ino}: ${message}`, nodeOffset + at);
  };
  const magic = v.getUint16(0, true);
  if (magic !== 0xf30a) fail(`extent header magic is 0x${magic.toString(16)}, expected 0xf30a`);
  const entries = v.getUint16(2, true);
  const max = v.getUint16(4, true);
  const depth = v.getUint16(6, true);
  const capacity = Math.floor((node.length - 12) / 12);
  if (max > capacity || entries > max)
    fail(`extent node holds ${entries} of ${max} entries, room for ${capacity}`, 2);
  if (depth > MAX_EXTENT_DEPTH) fail(`extent tree depth ${depth} exceeds ${MAX_EXTENT_DEPTH}`, 6);
  if (expectedDepth >= 0 && depth !== expectedDepth)
    fail(`extent node depth ${depth}, expected ${expectedDepth}`, 6);
  for (let i = 0; i < entries; i++) {
    const at = 12 + i * 12;
    const first = v.getUint32(at, true);
    if (first >= limit) return;
    if (depth === 0) {
      let length = v.getUint16(at + 4, true);
      const uninit = length > 32768;
      if (uninit) length -= 32768;
      const physical = v.getUint16(at + 6, true) * 2 ** 32 + v.getUint32(at + 8, true);
      if (length === 0) {
        ctx.onIssue?.(
          `inode ${inode.ino} has a zero-length extent at file block ${first}`,
          nodeOffset + at,
        );
        continue;
      }
      if (first < state.next)
        fail(`extent at file block ${first} overlaps the previous one (ends at ${state.next})`, at);
      checkBlock(ctx, physical, length, inode.ino, nodeOffset + at, "extent");
      state.next = first + length;
      yield { logical: first, physical, length, uninit };
    } else {
      const child = v.getUint32(at + 4, true) + v.getUint16(at + 8, true) * 2 ** 32;
      if (first < state.next) fail(`extent index at file block ${first} is out of order`, at);
      checkBlock(ctx, child, 1, inode.ino, nodeOffset + at, "extent tree block");
      if (state.seen.has(child)) fail(`extent tree block ${child} is used twice`, at);
      state.seen.add(child);
      ctx.onMetaBlock?.(child, inode.ino);
      const bytes = await ctx.readBlock(child);
      if (ctx.onIssue && bytes.length >= 24) {
        const cv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const start = cv.getUint32(12, true);
        if (cv.getUint16(0, true) === 0xf30a && cv.getUint16(2, true) > 0 && start !== first)
          ctx.onIssue(
            `inode ${inode.ino}'s extent index at file block ${first} leads to a node starting at file block ${start}`,
            nodeOffset + at,
          );
      }
      yield* walkExtentNode(ctx, inode, bytes, child * ctx.blockSize, depth - 1, limit, state);
    }
  }
}
