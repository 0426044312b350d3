/**
 * Extent maps (ext4's `extent` feature): a file's present blocks as extents
 * of at most 32768 blocks, four in the inode's i_block, more in a tree of
 * leaf and index blocks. A file's run in D-space holds its data first, in
 * logical order, then its tree blocks (leaves, then each index level up),
 * so the data's places, and with them the extents, do not depend on the
 * tree's size. Extents break where D-space does (metadata, group ends) and
 * at holes: a sparse file keeps its holes.
 */
import { extentBlockChecksum } from "../format/_checksums.ts";
import type { BlockPresence, LayoutItem } from "./_block_map.ts";

const MAGIC = 0xf30a;
/** An initialized extent's longest length. */
const MAX_LEN = 32768;
/** Entries in the inode's i_block (60 bytes: a header and 4 entries). */
const ROOT_ENTRIES = 4;

/** Where D-space index `d` lies, and how far it stays contiguous. */
export interface SpaceView {
  phys(d: number): number;
  blocksLeftInGroup(d: number): number;
}

/** Entries per tree block of `bs` bytes (the 4 bytes after them hold the checksum). */
export function entriesPerBlock(bs: number): number {
  return Math.floor((bs - 12) / 12);
}

/** Tree blocks (leaves and index blocks) for `extents` extents. */
export function treeBlocksFor(extents: number, bs: number): number {
  const per = entriesPerBlock(bs);
  let total = 0;
  let n = extents;
  while (n > ROOT_ENTRIES) {
    n = Math.ceil(n / per);
    total += n;
  }
  return total;
}

/** The extents of a file whose present blocks lie in D-space from `d0`, in logical order. */
export function fileExtents(
  presence: BlockPresence,
  d0: number,
  space: SpaceView,
): { logical: number[]; length: number[]; start: number[] } {
  const logical: number[] = [];
  const length: number[] = [];
  const start: number[] = [];
  let d = d0;
  for (const [s, c] of presence.runsIn(0, presence.logicalBlocks)) {
    for (let done = 0; done < c; ) {
      const n = Math.min(c - done, space.blocksLeftInGroup(d));
      const p = space.phys(d);
      let k = 0;
      while (k < n) {
        const last = logical.length - 1;
        const take = Math.min(n - k, MAX_LEN);
        // Physically and logically contiguous with the last one: extend it.
        if (
          last >= 0 &&
          (logical[last] as number) + (length[last] as number) === s + done + k &&
          (start[last] as number) + (length[last] as number) === p + k &&
          (length[last] as number) < MAX_LEN
        ) {
          const grow = Math.min(take, MAX_LEN - (length[last] as number));
          length[last] = (length[last] as number) + grow;
          k += grow;
          continue;
        }
        logical.push(s + done + k);
        length.push(take);
        start.push(p + k);
        k += take;
      }
      done += n;
      d += n;
    }
  }
  return { logical, length, start };
}

/** An extent tree block (or the inode's root) with its entries, written into `out`. */
function writeNode(
  out: DataView,
  depth: number,
  max: number,
  entries: number,
  entry: (i: number, at: number) => void,
): void {
  out.setUint16(0, MAGIC, true);
  out.setUint16(2, entries, true);
  out.setUint16(4, max, true);
  out.setUint16(6, depth, true);
  out.setUint32(8, 0, true);
  for (let i = 0; i < entries; i++) entry(i, 12 + i * 12);
}

/** The extent map of one file, directory or symlink run. */
export class ExtentMap {
  readonly presence: BlockPresence;
  /** Tree blocks after the data. */
  readonly treeBlocks: number;
  /** Blocks the object takes: data plus tree blocks. */
  readonly totalBlocks: number;
  readonly #bs: number;
  readonly #d0: number;
  readonly #space: SpaceView;
  readonly #extents: ReturnType<typeof fileExtents>;
  /** Entry counts by level: [extents, leaves, index blocks, ...]; the last fits the root. */
  readonly #levels: number[];

  constructor(presence: BlockPresence, d0: number, space: SpaceView, bs: number) {
    this.presence = presence;
    this.#bs = bs;
    this.#d0 = d0;
    this.#space = space;
    this.#extents = fileExtents(presence, d0, space);
    const per = entriesPerBlock(bs);
    const levels = [this.#extents.logical.length];
    while ((levels[levels.length - 1] as number) > ROOT_ENTRIES)
      levels.push(Math.ceil((levels[levels.length - 1] as number) / per));
    this.#levels = levels;
    this.treeBlocks = levels.slice(1).reduce((a, b) => a + b, 0);
    this.totalBlocks = presence.present + this.treeBlocks;
  }

  /** D-space index of tree block `k` (leaves first, then each level up). */
  #treeD(k: number): number {
    return this.#d0 + this.presence.present + k;
  }

  /** First tree block of level `level` (1: leaves). */
  #levelBase(level: number): number {
    let base = 0;
    for (let l = 1; l < level; l++) base += this.#levels[l] as number;
    return base;
  }

  /** The first logical block under entry `i` of level `level`'s nodes (0: the extents). */
  #firstLogical(level: number, i: number): number {
    const per = entriesPerBlock(this.#bs);
    let index = i;
    for (let l = level; l > 0; l--) index *= per;
    return this.#extents.logical[index] as number;
  }

  /** Writes the entries `[from, to)` of level `level` (0: extents) into a node. */
  #entries(view: DataView, level: number, from: number, to: number, depth: number, max: number) {
    const e = this.#extents;
    writeNode(view, depth, max, to - from, (i, at) => {
      const j = from + i;
      if (level === 0) {
        view.setUint32(at, e.logical[j] as number, true);
        view.setUint16(at + 4, e.length[j] as number, true);
        const p = e.start[j] as number;
        view.setUint16(at + 6, Math.floor(p / 2 ** 32), true);
        view.setUint32(at + 8, p >>> 0, true);
      } else {
        const child = this.#space.phys(this.#treeD(this.#levelBase(level) + j));
        view.setUint32(at, this.#firstLogical(level, j), true);
        view.setUint32(at + 4, child >>> 0, true);
        view.setUint16(at + 8, Math.floor(child / 2 ** 32), true);
        view.setUint16(at + 10, 0, true);
      }
    });
  }

  /** The 15 i_block words: the root node. */
  iBlock(): Uint32Array {
    const out = new Uint32Array(15);
    const view = new DataView(out.buffer);
    const top = this.#levels.length - 1;
    this.#entries(view, top, 0, this.#levels[top] as number, top, ROOT_ENTRIES);
    if (!LITTLE_ENDIAN) for (let i = 0; i < 15; i++) out[i] = view.getUint32(i * 4, true);
    return out;
  }

  /**
   * The layout in D-space order: the data runs, then the tree blocks (as
   * words, checksummed with `inodeSeed` when given).
   */
  *layout(inodeSeed?: number): Generator<LayoutItem> {
    for (const [s, c] of this.presence.runsIn(0, this.presence.logicalBlocks))
      yield { kind: "data", logical: s, count: c };
    const per = entriesPerBlock(this.#bs);
    const bytes = new Uint8Array(this.#bs);
    const view = new DataView(bytes.buffer);
    for (let level = 1; level < this.#levels.length; level++) {
      const below = this.#levels[level - 1] as number;
      const nodes = this.#levels[level] as number;
      for (let k = 0; k < nodes; k++) {
        bytes.fill(0);
        this.#entries(view, level - 1, k * per, Math.min(below, (k + 1) * per), level - 1, per);
        if (inodeSeed !== undefined)
          view.setUint32(12 + per * 12, extentBlockChecksum(inodeSeed, bytes, per), true);
        const words = new Uint32Array(this.#bs / 4);
        for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4, true);
        yield { kind: "map", pointers: words };
      }
    }
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The i_block root (depth 0) of up to 4 runs given as [start, count] (the journal's). */
export function rootOfRuns(runs: readonly [number, number][], firstLogical = 0): Uint32Array {
  const out = new Uint32Array(15);
  const view = new DataView(out.buffer);
  let logical = firstLogical;
  writeNode(view, 0, ROOT_ENTRIES, runs.length, (i, at) => {
    const [s, n] = runs[i] as [number, number];
    view.setUint32(at, logical, true);
    view.setUint16(at + 4, n, true);
    view.setUint16(at + 6, Math.floor(s / 2 ** 32), true);
    view.setUint32(at + 8, s >>> 0, true);
    logical += n;
  });
  if (!LITTLE_ENDIAN) for (let i = 0; i < 15; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

/**
 * The journal's extent tree when its runs need leaves: the root (depth 1)
 * pointing at `leaves`, and each leaf's bytes (checksummed with `inodeSeed`).
 */
export function journalTree(
  runs: readonly [number, number][],
  leaves: readonly number[],
  bs: number,
  inodeSeed: number | undefined,
): { iBlock: Uint32Array; leafBytes: Uint8Array[] } {
  const per = entriesPerBlock(bs);
  const logicalOf: number[] = [];
  let logical = 0;
  for (const [, n] of runs) {
    logicalOf.push(logical);
    logical += n;
  }
  const leafBytes: Uint8Array[] = leaves.map((_, k) => {
    const bytes = new Uint8Array(bs);
    const view = new DataView(bytes.buffer);
    const from = k * per;
    const to = Math.min(runs.length, from + per);
    writeNode(view, 0, per, to - from, (i, at) => {
      const [s, n] = runs[from + i] as [number, number];
      view.setUint32(at, logicalOf[from + i] as number, true);
      view.setUint16(at + 4, n, true);
      view.setUint16(at + 6, Math.floor(s / 2 ** 32), true);
      view.setUint32(at + 8, s >>> 0, true);
    });
    if (inodeSeed !== undefined)
      view.setUint32(12 + per * 12, extentBlockChecksum(inodeSeed, bytes, per), true);
    return bytes;
  });
  const iBlock = new Uint32Array(15);
  const view = new DataView(iBlock.buffer);
  writeNode(view, 1, ROOT_ENTRIES, leaves.length, (i, at) => {
    const leaf = leaves[i] as number;
    view.setUint32(at, logicalOf[i * per] as number, true);
    view.setUint32(at + 4, leaf >>> 0, true);
    view.setUint16(at + 8, Math.floor(leaf / 2 ** 32), true);
    view.setUint16(at + 10, 0, true);
  });
  if (!LITTLE_ENDIAN) for (let i = 0; i < 15; i++) iBlock[i] = view.getUint32(i * 4, true);
  return { iBlock, leafBytes };
}
