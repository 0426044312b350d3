/**
 * Classic ext2 block maps: 12 direct blocks, then single, double and triple
 * indirect trees. A file's blocks (data and indirect) are allocated as one
 * consecutive run in allocation order: each indirect block comes right before
 * the blocks it maps (as Linux and mke2fs lay them out). Holes take no blocks.
 *
 * Positions below are indexes within the file's run (0 = first block).
 */

/** The all-zero pointers of map blocks when a layout is asked without physical blocks. */
const NO_POINTERS = new Map<number, Uint32Array>();

function noPointers(apb: number): Uint32Array {
  let pointers = NO_POINTERS.get(apb);
  if (!pointers) {
    pointers = new Uint32Array(apb);
    NO_POINTERS.set(apb, pointers);
  }
  return pointers;
}

/** A step of a file's layout, in allocation order. */
export type LayoutItem =
  | { kind: "data"; logical: number; count: number }
  | { kind: "map"; pointers: Uint32Array };

/** The largest number of logical blocks a block map can address. */
export function maxMappedBlocks(apb: number): number {
  return 12 + apb + apb * apb + apb * apb * apb;
}

/** Which logical blocks of a file hold data: all of `[0, blocks)`, or sorted runs. */
export class BlockPresence {
  readonly logicalBlocks: number;
  readonly present: number;
  readonly #starts: Float64Array | undefined;
  readonly #counts: Float64Array | undefined;
  readonly #prefix: Float64Array | undefined;

  /** `runs` are [start, count] pairs in increasing order; undefined means dense. */
  constructor(logicalBlocks: number, runs?: readonly number[]) {
    this.logicalBlocks = logicalBlocks;
    if (!runs) {
      this.present = logicalBlocks;
      return;
    }
    const n = runs.length / 2;
    this.#starts = new Float64Array(n);
    this.#counts = new Float64Array(n);
    this.#prefix = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) {
      this.#starts[i] = runs[2 * i] as number;
      this.#counts[i] = runs[2 * i + 1] as number;
      this.#prefix[i + 1] = (this.#prefix[i] as number) + (runs[2 * i + 1] as number);
    }
    this.present = this.#prefix[n] as number;
  }

  /** Number of present blocks below logical block `x`. */
  below(x: number): number {
    const starts = this.#starts;
    if (!starts) return Math.max(0, Math.min(x, this.logicalBlocks));
    const counts = this.#counts as Float64Array;
    const prefix = this.#prefix as Float64Array;
    let lo = 0;
    let hi = starts.length - 1;
    let idx = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((starts[mid] as number) <= x) {
        idx = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (idx < 0) return 0;
    return (prefix[idx] as number) + Math.min(counts[idx] as number, x - (starts[idx] as number));
  }

  /** Number of present blocks in `[from, to)`. */
  count(from: number, to: number): number {
    return this.below(to) - this.below(from);
  }

  /** Present runs within `[from, to)` as [start, count] pairs. */
  *runsIn(from: number, to: number): Generator<[number, number]> {
    const starts = this.#starts;
    if (!starts) {
      const end = Math.min(to, this.logicalBlocks);
      if (end > from) yield [from, end - from];
      return;
    }
    const counts = this.#counts as Float64Array;
    for (let i = 0; i < starts.length; i++) {
      const s = starts[i] as number;
      const e = s + (counts[i] as number);
      if (e <= from) continue;
      if (s >= to) break;
      const a = Math.max(s, from);
      const b = Math.min(e, to);
      if (b > a) yield [a, b - a];
    }
  }
}

/** The block map of one file: sizes, the inode's i_block, and the layout. */
export class BlockMap {
  readonly apb: number;
  readonly presence: BlockPresence;
  /** Blocks the file takes: data plus map blocks. */
  readonly totalBlocks: number;
  readonly #spans: number[];
  readonly #starts: number[];

  constructor(apb: number, presence: BlockPresence) {
    this.apb = apb;
    this.presence = presence;
    this.#spans = [1, apb, apb * apb, apb * apb * apb];
    this.#starts = [0, 12, 12 + apb, 12 + apb + apb * apb];
    let total = presence.count(0, 12);
    for (let level = 1; level <= 3; level++)
      total += this.subtreeSize(level, this.#starts[level] as number);
    this.totalBlocks = total;
  }

  /** Blocks taken by the subtree of a level-`level` map block covering logical blocks from `start`. */
  subtreeSize(level: number, start: number): number {
    const span = this.#spans[level] as number;
    const p = this.presence.count(start, start + span);
    if (p === 0) return 0;
    if (level === 1) return 1 + p;
    // Present blocks form one prefix run of the range: closed form.
    if (this.presence.count(start, start + p) === p) {
      let size = p;
      for (let l = 1; l <= level; l++)
        size += Math.ceil(p / (this.#spans[l - 1] as number) / this.apb);
      return size;
    }
    const childSpan = this.#spans[level - 1] as number;
    let size = 1;
    for (let i = 0; i < this.apb; i++) size += this.subtreeSize(level - 1, start + i * childSpan);
    return size;
  }

  /** The 15 i_block words, given the physical block of each position. */
  iBlock(phys: (position: number) => number): Uint32Array {
    const out = new Uint32Array(15);
    let pos = 0;
    for (const [s, c] of this.presence.runsIn(0, 12)) {
      for (let i = 0; i < c; i++) out[s + i] = phys(pos++);
    }
    for (let level = 1; level <= 3; level++) {
      const size = this.subtreeSize(level, this.#starts[level] as number);
      if (size > 0) out[11 + level] = phys(pos);
      pos += size;
    }
    return out;
  }

  /**
   * The layout in allocation order; map blocks carry their pointers (physical,
   * from `phys`; all zero without it, for callers that need only the data runs).
   */
  *layout(phys?: (position: number) => number): Generator<LayoutItem> {
    let pos = 0;
    for (const [s, c] of this.presence.runsIn(0, 12)) {
      yield { kind: "data", logical: s, count: c };
      pos += c;
    }
    for (let level = 1; level <= 3; level++) {
      const start = this.#starts[level] as number;
      const size = this.subtreeSize(level, start);
      if (size > 0) yield* this.#subtree(level, start, pos, phys);
      pos += size;
    }
  }

  *#subtree(
    level: number,
    start: number,
    pos: number,
    phys: ((position: number) => number) | undefined,
  ): Generator<LayoutItem> {
    const apb = this.apb;
    const pointers = phys ? new Uint32Array(apb) : noPointers(apb);
    if (level === 1) {
      let p = pos + 1;
      const runs = [...this.presence.runsIn(start, start + apb)];
      if (phys) {
        for (const [s, c] of runs) for (let i = 0; i < c; i++) pointers[s - start + i] = phys(p++);
      }
      yield { kind: "map", pointers };
      for (const [s, c] of runs) yield { kind: "data", logical: s, count: c };
      return;
    }
    const childSpan = this.#spans[level - 1] as number;
    const sizes = new Float64Array(apb);
    let p = pos + 1;
    for (let i = 0; i < apb; i++) {
      const size = this.subtreeSize(level - 1, start + i * childSpan);
      sizes[i] = size;
      if (size > 0 && phys) pointers[i] = phys(p);
      p += size;
    }
    yield { kind: "map", pointers };
    p = pos + 1;
    for (let i = 0; i < apb; i++) {
      const size = sizes[i] as number;
      if (size > 0) yield* this.#subtree(level - 1, start + i * childSpan, p, phys);
      p += size;
    }
  }
}
