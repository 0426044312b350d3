import * as fs from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type DataRunsRegion, type DataRunsScratch, findDataRunsWith } from "./data_runs.ts";
import type { ImagePlacement } from "./image_placement.ts";

/** Options for {@linkcode CopyPool}. */
export interface CopyPoolOptions {
  /** Worker threads. @default one less than the available cores, at least 1, at most 4 */
  threads?: number;
  /**
   * Ranges waiting for a worker before the caller copies some itself (each
   * costs ~40 bytes plus its path): what bounds the queue's memory.
   * @default 65536
   */
  maxQueued?: number;
}

/** Ranges a segment holds, and the bytes of their paths. */
const SEGMENT_RANGES = 4096;
const SEGMENT_PATH_BYTES = 1 << 20;
const BUFFER_SIZE = 1 << 20;

/**
 * Slots of a segment's control words (takeRanges, which also runs in the
 * workers, spells them out): ranges claimed (0), filled (1), done (2), sealed
 * (3), workers waiting for more (4), and workers done with it (5).
 */
const CLAIMED = 0;
const FILLED = 1;
const DONE = 2;
const SEALED = 3;
const WAITING = 4;
/** Workers done with this use of the segment (then its memory can be used again). */
const LEFT = 5;
/** Ranges that wait before a sleeping worker is woken. */
const WAKE_AFTER = 32;
/**
 * Numbers per range: source offset, length, destination offset (-1: only
 * check that the source can be read; -2: find its data runs), path offset,
 * path length, and for -2 the bytes the file has allocated (-1: unknown).
 */
const FIELDS = 6;
const CHECK = -1;
const DATA_RUNS = -2;

/**
 * A block of queued ranges in shared memory. The caller appends ranges and
 * raises FILLED; every thread (the workers, and the caller when it helps)
 * takes the next range by raising CLAIMED, and raises DONE when it is copied.
 */
interface Segment {
  /** Which use of shared memory this is (failures name it). */
  id: number;
  /** Which shared memory: workers keep each slot's arrays from its first use. */
  slot: number;
  control: Int32Array;
  numbers: Float64Array;
  paths: Uint8Array;
  /** `paths` as a Buffer, to write strings into. */
  pathText: Buffer;
  pathBytes: number;
  /** Labels for messages, where a range's label is not its path. */
  labels: Map<number, string>;
}

/** A worker's answer to a dataRuns() range. */
interface RunsMessage {
  segment: number;
  index: number;
  runs: number[] | null;
}

/** What a worker reports of a failed range. */
interface WorkerFailure {
  segment: number;
  index: number;
  message: string;
  code?: string | undefined;
  /** Writing the output failed, not reading the source. */
  output?: boolean;
}

/**
 * Copies byte ranges of files into one output file on worker threads, so that
 * reading sources and writing the output overlap with the caller's own work
 * (`mkfs` on two cores). Zero blocks of a range are skipped, so the output must
 * read as zeros where nothing is written: a new file or a hole. Ranges that
 * follow each other closely are written with one call. Ranges wait in
 * shared memory, taken in order by whichever thread is free; while the caller
 * waits in {@linkcode CopyPool.finish} it copies too, and when the queue is
 * full it copies rather than queue more, so memory stays bounded. The same
 * threads can check that files are readable ({@linkcode CopyPool.check}) while
 * the caller is busy planning.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
 * import { CopyPool } from "@bigfile/blockdev/node";
 * writeFileSync("kernel", new Uint8Array(4_000_000).fill(7));
 * const pool = new CopyPool();
 * const fd = openSync("out.img", "wx");
 * try {
 *   pool.attach(fd);
 *   pool.copy("kernel", 0, 4_000_000, 1 << 20); // kernel's bytes at 1 MiB
 *   await pool.finish();
 * } finally {
 *   await pool.close();
 *   closeSync(fd);
 * }
 * const out = readFileSync("out.img");
 * assert.equal(out.length, (1 << 20) + 4_000_000);
 * assert.equal(out[(1 << 20) + 3_999_999], 7);
 * ```
 */
export class CopyPool {
  readonly #workers: Worker[] = [];
  readonly #threads: number;
  #blockSize = 4096;
  /** Most bytes between ranges that are still read into one buffer and written together. */
  #joinGap = 4096;
  readonly #maxSegments: number;
  /** Set (to 1) by the first thread that fails: all stop taking ranges. */
  readonly #failed = new Int32Array(new SharedArrayBuffer(4));
  /** Segments not yet all copied, oldest first. */
  readonly #segments: Segment[] = [];
  /**
   * Copied segments, whose shared memory is used again once every worker has
   * left them (memory from messages is freed only by each thread's garbage
   * collector, which a worker that barely allocates may never run).
   */
  readonly #spent: Segment[] = [];
  #slots = 0;
  #nextId = 0;
  #fd = -1;
  #offset = 0;
  #placement: ImagePlacement | undefined;
  #failure: Error | undefined;
  #reported: Promise<WorkerFailure>;
  #report: (failure: WorkerFailure) => void = () => {};
  #buffer: Uint8Array | undefined;
  readonly #scratch: DataRunsScratch = {};
  #closed = false;

  /** A pool whose workers start with the first queued range or check. */
  constructor(options: CopyPoolOptions = {}) {
    this.#maxSegments = Math.max(1, Math.ceil((options.maxQueued ?? 65536) / SEGMENT_RANGES));
    this.#reported = new Promise((resolve) => {
      this.#report = resolve;
    });
    this.#threads = options.threads ?? Math.min(4, Math.max(1, availableParallelism() - 1));
  }

  #startWorkers(): void {
    const source = workerSource();
    for (let i = 0; i < this.#threads; i++) {
      const worker = new Worker(source, {
        eval: true,
        workerData: {
          bufferSize: BUFFER_SIZE,
          failed: this.#failed,
        },
      });
      worker.on("message", (m: WorkerFailure | RunsMessage) => {
        if ("runs" in m) this.#settleRuns(m.segment, m.index, m.runs ?? undefined);
        else this.#onFailure(m);
      });
      worker.on("error", (error) => {
        Atomics.store(this.#failed, 0, 1);
        this.#failure ??= error;
        this.#onFailure({ segment: -1, index: -1, message: error.message });
      });
      worker.unref();
      if (this.#fd >= 0)
        worker.postMessage({ fd: this.#fd, blockSize: this.#blockSize, joinGap: this.#joinGap });
      this.#workers.push(worker);
    }
  }

  /**
   * The output: a descriptor open for writing; positions are counted from
   * `offset`. Ranges start at multiples of `blockSize` (from `offset`), and a
   * block that holds bytes of a range belongs to it: blocks that are all zeros
   * are not written (they stay holes, or are someone else's). With a
   * `placement`, positions are in an image that it lays out in the file: each
   * range goes to the file ranges it gives (decided here, in order of the calls).
   */
  attach(fd: number, offset = 0, blockSize = 4096, placement?: ImagePlacement): void {
    this.#fd = fd;
    this.#offset = offset;
    this.#blockSize = blockSize;
    this.#placement = placement;
    // Joining across a gap writes the gap's zero blocks only if it is whole
    // blocks of the image: placed ranges start anywhere in a block, so those
    // are joined only when they touch.
    this.#joinGap = placement ? 0 : blockSize;
    const joinGap = this.#joinGap;
    for (const worker of this.#workers) worker.postMessage({ fd, blockSize, joinGap });
  }

  /**
   * Copies `length` bytes from `srcOffset` of the file at `path` to `dstOffset`
   * of the output, now or later. A failure (an unreadable or shortened file) is
   * thrown by {@linkcode CopyPool.finish}, naming `label` (default: the path);
   * once a range failed, calls throw at once.
   */
  copy(
    path: string | Uint8Array,
    srcOffset: number,
    length: number,
    dstOffset: number,
    label?: string,
  ): void {
    if (this.#fd < 0) throw new Error("CopyPool.copy before attach");
    if (length <= 0) return;
    if (!this.#placement) {
      this.#queue(path, srcOffset, length, this.#offset + dstOffset, label);
      return;
    }
    const ranges = this.#placement.place(this.#offset + dstOffset, length);
    for (let i = 0, from = srcOffset; i < ranges.length; i += 2) {
      const n = ranges[i + 1] as number;
      this.#queue(path, from, n, ranges[i] as number, label);
      from += n;
    }
  }

  /**
   * Checks, now or later, that the file at `path` can be read (access(2) for
   * reading) while the caller goes on; {@linkcode CopyPool.finish} throws if not,
   * naming `label` (default: the path).
   */
  check(path: string | Uint8Array, label?: string): void {
    this.#queue(path, 0, 0, CHECK, label);
  }

  /**
   * Finds the data runs of a file region on the workers (blockdev's
   * `findDataRuns`, see there): resolves with them, or rejects with the
   * pool's failure.
   */
  dataRuns(
    path: string | Uint8Array,
    region: DataRunsRegion,
    label?: string,
  ): Promise<number[] | undefined> {
    const promise = new Promise<number[] | undefined>((resolve, reject) => {
      const segment = this.#queue(
        path,
        region.offset ?? 0,
        region.size,
        DATA_RUNS,
        label,
        region.allocated ?? -1,
      );
      this.#waitingRuns.set(`${segment.id}:${Atomics.load(segment.control, FILLED) - 1}`, {
        resolve,
        reject,
      });
    });
    // The caller will wait for it: wake a worker now (queue() waits for a few ranges).
    this.flush();
    // Awaited later, perhaps never (finish() reports the failure): not an unhandled rejection.
    promise.catch(() => {});
    return promise;
  }

  /** Callers of dataRuns() waiting, by segment id and range. */
  readonly #waitingRuns = new Map<
    string,
    { resolve: (runs: number[] | undefined) => void; reject: (error: Error) => void }
  >();

  /** The first failure: reported to finish(), and to every dataRuns() still waiting. */
  #onFailure(failure: WorkerFailure): void {
    this.#report(failure);
    void this.#failureError().then((error) => {
      for (const waiting of this.#waitingRuns.values()) waiting.reject(error);
      this.#waitingRuns.clear();
    });
  }

  #settleRuns(segment: number, index: number, runs: number[] | undefined): void {
    const key = `${segment}:${index}`;
    this.#waitingRuns.get(key)?.resolve(runs);
    this.#waitingRuns.delete(key);
  }

  /** Queues a range (or, with `dstOffset` CHECK or DATA_RUNS, another job); returns its segment. */
  #queue(
    path: string | Uint8Array,
    srcOffset: number,
    length: number,
    dstOffset: number,
    label: string | undefined,
    extra = 0,
  ): Segment {
    if (Atomics.load(this.#failed, 0)) {
      throw this.#failure ?? new Error("a copy failed (CopyPool.finish tells which)");
    }
    // A string goes straight into the segment as UTF-8: at most 3 bytes a UTF-16 unit.
    const room = typeof path === "string" ? path.length * 3 : path.length;
    let segment = this.#segments[this.#segments.length - 1];
    let filled = segment ? Atomics.load(segment.control, FILLED) : 0;
    if (!segment || filled === SEGMENT_RANGES || segment.pathBytes + room > segment.paths.length) {
      if (segment) this.#seal(segment);
      this.#prune();
      // Too much queued: copy the oldest ranges here before queuing more.
      while (this.#segments.length >= this.#maxSegments) {
        const oldest = this.#segments[0] as Segment;
        this.#help(oldest);
        const done = Atomics.load(oldest.control, DONE);
        if (done < Atomics.load(oldest.control, FILLED))
          Atomics.wait(oldest.control, DONE, done, 50);
        this.#prune();
        if (Atomics.load(this.#failed, 0))
          throw new Error("a copy failed (CopyPool.finish tells which)");
      }
      segment = this.#newSegment(Math.max(SEGMENT_PATH_BYTES, room));
      filled = 0;
    }
    const at = filled * FIELDS;
    segment.numbers[at] = srcOffset;
    segment.numbers[at + 1] = length;
    segment.numbers[at + 2] = dstOffset;
    segment.numbers[at + 3] = segment.pathBytes;
    let pathLength: number;
    if (typeof path === "string") {
      pathLength = segment.pathText.write(path, segment.pathBytes, "utf8");
    } else {
      segment.paths.set(path, segment.pathBytes);
      pathLength = path.length;
    }
    segment.numbers[at + 4] = pathLength;
    segment.numbers[at + 5] = extra;
    segment.pathBytes += pathLength;
    if (label !== undefined) segment.labels.set(filled, label);
    Atomics.store(segment.control, FILLED, filled + 1);
    // Wake a waiting worker once a few ranges wait for it (each wake-up costs a
    // thread switch); flush() and finish() wake it for the rest.
    if (
      Atomics.load(segment.control, WAITING) > 0 &&
      filled + 1 - Atomics.load(segment.control, CLAIMED) >= WAKE_AFTER
    ) {
      Atomics.notify(segment.control, FILLED);
    }
    return segment;
  }

  /** Wakes the workers for every range queued so far (call after a burst of calls). */
  flush(): void {
    const last = this.#segments[this.#segments.length - 1];
    if (last) Atomics.notify(last.control, FILLED);
  }

  /**
   * Copies and checks with the workers until every queued range is in place
   * and every check done; rejects with the first failure. The pool can be
   * used again after it resolves.
   */
  async finish(): Promise<void> {
    const last = this.#segments[this.#segments.length - 1];
    if (last) this.#seal(last);
    for (const segment of this.#segments) {
      this.#help(segment);
      // Wait for ranges other threads are still copying.
      for (;;) {
        if (Atomics.load(this.#failed, 0)) break;
        const done = Atomics.load(segment.control, DONE);
        if (done === Atomics.load(segment.control, FILLED)) break;
        const wait = waitAsync(segment.control, DONE, done, 1000);
        if (wait.async) await wait.value;
      }
      if (Atomics.load(this.#failed, 0)) break;
    }
    if (Atomics.load(this.#failed, 0)) throw await this.#failureError();
    this.#spent.push(...this.#segments.splice(0));
    // Idle workers no longer keep the process alive.
    for (const worker of this.#workers) worker.unref();
  }

  /**
   * Stops the workers; ranges not yet copied are dropped. Resolves once no
   * worker writes any more (a write under way ends first), so the caller may
   * then close the output.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#failed, 0, 1);
    for (const segment of this.#segments) this.#seal(segment);
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  /** Drops the oldest segments while they are all copied (kept after a failure, to name it). */
  #prune(): void {
    while (!Atomics.load(this.#failed, 0) && this.#segments.length > 0) {
      const c = (this.#segments[0] as Segment).control;
      if (!Atomics.load(c, SEALED) || Atomics.load(c, DONE) < Atomics.load(c, FILLED)) return;
      this.#spent.push(this.#segments.shift() as Segment);
    }
  }

  #newSegment(pathBytes: number): Segment {
    if (this.#workers.length === 0 && !this.#closed) this.#startWorkers();
    const id = this.#nextId++;
    const reusable = this.#spent.findIndex(
      (s) => Atomics.load(s.control, LEFT) === this.#workers.length && s.paths.length >= pathBytes,
    );
    if (reusable >= 0) {
      const segment = this.#spent.splice(reusable, 1)[0] as Segment;
      segment.control.fill(0);
      segment.id = id;
      segment.pathBytes = 0;
      segment.labels.clear();
      this.#segments.push(segment);
      for (const worker of this.#workers) {
        worker.ref();
        worker.postMessage({ id, slot: segment.slot });
      }
      return segment;
    }
    const pathSpace = new SharedArrayBuffer(pathBytes);
    const segment: Segment = {
      id,
      slot: this.#slots++,
      control: new Int32Array(new SharedArrayBuffer(24)),
      numbers: new Float64Array(new SharedArrayBuffer(SEGMENT_RANGES * FIELDS * 8)),
      paths: new Uint8Array(pathSpace),
      pathText: Buffer.from(pathSpace),
      pathBytes: 0,
      labels: new Map(),
    };
    this.#segments.push(segment);
    for (const worker of this.#workers) {
      worker.ref();
      worker.postMessage({
        id,
        slot: segment.slot,
        control: segment.control,
        numbers: segment.numbers,
        paths: segment.paths,
      });
    }
    return segment;
  }

  #seal(segment: Segment): void {
    Atomics.store(segment.control, SEALED, 1);
    Atomics.notify(segment.control, FILLED);
  }

  /** Copies this segment's ranges that no thread has taken yet, here. */
  #help(segment: Segment): void {
    this.#buffer ??= new Uint8Array(BUFFER_SIZE);
    const failed = takeRanges(
      LIB,
      fs,
      this.#fd,
      segment.control,
      segment.numbers,
      segment.paths,
      this.#buffer,
      this.#scratch,
      this.#blockSize,
      this.#joinGap,
      this.#failed,
      true,
      (index, runs) => this.#settleRuns(segment.id, index, runs),
    );
    if (failed) this.#onFailure({ segment: segment.id, ...failed });
  }

  async #failureError(): Promise<Error> {
    if (this.#failure) return this.#failure;
    const f = await this.#reported;
    const segment = [...this.#segments, ...this.#spent].find((s) => s.id === f.segment);
    const label = segment?.labels.get(f.index) ?? pathText(segment, f.index);
    const text = f.output
      ? `Cannot write the output: ${f.message}`
      : `Cannot read ${label}: ${f.message}`;
    // The errno code goes in `cause`: as `code` it would make a CLI print the
    // bare errno text instead of this sentence.
    this.#failure = new Error(text, { cause: { code: f.code } });
    return this.#failure;
  }
}

/** Atomics.waitAsync (ES2024, in Node since 16; TypeScript's lib here is older). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeout: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

function pathText(segment: Segment | undefined, index: number): string {
  if (!segment) return "a source file";
  const at = index * FIELDS;
  const from = segment.numbers[at + 3] as number;
  return Buffer.from(
    segment.paths.slice(from, from + (segment.numbers[at + 4] as number)),
  ).toString();
}

/** The functions the workers run from their text; they reach each other through this object. */
interface CopyLib {
  takeRanges: typeof takeRanges;
  readInto: typeof readInto;
  writeData: typeof writeData;
  findDataRunsWith: typeof findDataRunsWith;
}

const LIB: CopyLib = { takeRanges, readInto, writeData, findDataRunsWith };

/** The workers' source: the functions of {@linkcode LIB}, then the body that gets them. */
function workerSource(): string {
  const entries = Object.entries(LIB) as [string, (...args: never[]) => unknown][];
  return `${entries.map(([, f]) => f.toString()).join("\n")}\n(${workerMain.toString()})({ ${entries
    .map(([k, f]) => `${k}: ${f.name}`)
    .join(", ")} });`;
}

/**
 * Takes ranges of a segment in order and copies them until none is left (or,
 * for a worker, until the segment is sealed and empty); returns the failure
 * that stopped it. Ranges that follow each other in the output within `joinGap`
 * are read into one buffer and written together. Self-contained (its text
 * also runs inside the workers).
 */
function takeRanges(
  lib: CopyLib,
  nodeFs: typeof fs,
  out: number,
  control: Int32Array,
  numbers: Float64Array,
  paths: Uint8Array,
  buffer: Uint8Array,
  scratch: DataRunsScratch,
  blockSize: number,
  joinGap: number,
  failed: Int32Array,
  onlyFilled: boolean,
  reportRuns: (index: number, runs: number[] | undefined) => void,
): { index: number; message: string; code?: string | undefined; output: boolean } | undefined {
  // Bytes read but not yet written: buffer[0, pendingLength) goes to pendingAt.
  let pendingAt = -1;
  let pendingLength = 0;
  let pendingRanges = 0;
  const settle = (ranges: number): void => {
    Atomics.add(control, 2, ranges);
    Atomics.notify(control, 2);
  };
  const flush = (): void => {
    if (pendingLength > 0) {
      lib.writeData(nodeFs, out, buffer, pendingLength, pendingAt, blockSize);
    }
    if (pendingRanges > 0) settle(pendingRanges);
    pendingAt = -1;
    pendingLength = 0;
    pendingRanges = 0;
  };
  let index = -1;
  try {
    for (;;) {
      if (Atomics.load(failed, 0)) return undefined;
      if (onlyFilled) {
        // The caller takes a range only if one is waiting: it never waits for more.
        const claimed = Atomics.load(control, 0);
        if (claimed >= Atomics.load(control, 1)) break;
        if (Atomics.compareExchange(control, 0, claimed, claimed + 1) !== claimed) continue;
        index = claimed;
      } else {
        index = Atomics.add(control, 0, 1);
        let sealed = false;
        for (;;) {
          const filled = Atomics.load(control, 1);
          if (index < filled) break;
          if (Atomics.load(control, 3)) {
            sealed = true;
            break;
          }
          // Nothing to do for now: write what is pending before sleeping.
          flush();
          Atomics.add(control, 4, 1);
          // Woken when ranges come or the segment is sealed; the timeout
          // only covers a wake-up sent between the checks above and this wait.
          Atomics.wait(control, 1, filled, 50);
          Atomics.sub(control, 4, 1);
        }
        if (sealed) break;
      }
      const at = index * 6;
      const from = numbers[at + 3] as number;
      const path = Buffer.from(paths.buffer, paths.byteOffset + from, numbers[at + 4] as number);
      const srcOffset = numbers[at] as number;
      const length = numbers[at + 1] as number;
      const dstOffset = numbers[at + 2] as number;
      if (dstOffset === -2) {
        const allocated = numbers[at + 5] as number;
        reportRuns(
          index,
          lib.findDataRunsWith(nodeFs, path, srcOffset, length, allocated, scratch),
        );
        settle(1);
        continue;
      }
      if (dstOffset < 0) {
        nodeFs.accessSync(path, nodeFs.constants.R_OK);
        settle(1);
        continue;
      }
      // Joins the pending bytes if it starts at most `joinGap` bytes after them and fits.
      const gap = dstOffset - (pendingAt + pendingLength);
      const into = dstOffset - pendingAt;
      if (pendingAt < 0 || gap < 0 || gap > joinGap || into + length > buffer.length) flush();
      const fd = nodeFs.openSync(path, "r");
      try {
        if (length <= buffer.length) {
          if (pendingAt < 0) pendingAt = dstOffset;
          const start = dstOffset - pendingAt;
          buffer.fill(0, pendingLength, start);
          lib.readInto(nodeFs, fd, buffer, start, srcOffset, length);
          pendingLength = start + length;
          pendingRanges++;
        } else {
          for (let done = 0; done < length; done += buffer.length) {
            const n = Math.min(buffer.length, length - done);
            lib.readInto(nodeFs, fd, buffer, 0, srcOffset + done, n);
            lib.writeData(nodeFs, out, buffer, n, dstOffset + done, blockSize);
          }
          settle(1);
        }
      } finally {
        nodeFs.closeSync(fd);
      }
    }
    flush();
    return undefined;
  } catch (e) {
    Atomics.store(failed, 0, 1);
    return {
      index,
      message: (e as Error).message,
      code: (e as { code?: string }).code,
      output: (e as { output?: boolean }).output === true,
    };
  }
}

/** Reads exactly `length` bytes at `srcOffset` of `fd` into `buffer` at `at`. Self-contained. */
function readInto(
  nodeFs: typeof fs,
  fd: number,
  buffer: Uint8Array,
  at: number,
  srcOffset: number,
  length: number,
): void {
  for (let got = 0; got < length; ) {
    const n = nodeFs.readSync(fd, buffer, at + got, length - got, srcOffset + got);
    if (n <= 0) {
      throw new Error(
        `it ended at ${srcOffset + got} bytes, expected at least ${srcOffset + length} (changed while it was copied?)`,
      );
    }
    got += n;
  }
}

/**
 * Writes `buffer[0, length)` at `dstOffset`, block by block from its start,
 * leaving out blocks that are all zeros (they stay holes, or belong to
 * someone else). Self-contained.
 */
function writeData(
  nodeFs: typeof fs,
  out: number,
  buffer: Uint8Array,
  length: number,
  dstOffset: number,
  blockSize: number,
): void {
  const write = (from: number, to: number): void => {
    try {
      for (let w = from; w < to; ) w += nodeFs.writeSync(out, buffer, w, to - w, dstOffset + w);
    } catch (e) {
      // The output failed (a full disk, say), not the source: say so.
      (e as { output?: boolean }).output = true;
      throw e;
    }
  };
  // memcmp of a block against itself one byte on: all equal and the first
  // zero means all zero (no zero buffer to keep in this self-contained code).
  const view = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let runStart = -1;
  for (let at = 0; at < length; at += blockSize) {
    const end = Math.min(at + blockSize, length);
    // A block whose first bytes are not all zero is data: no full comparison.
    let zero = true;
    const head = Math.min(end, at + 16);
    for (let i = at; i < head; i++) {
      if (buffer[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero && head < end) zero = view.compare(view, at + 1, end, at, end - 1) === 0;
    if (!zero) {
      if (runStart < 0) runStart = at;
    } else if (runStart >= 0) {
      write(runStart, at);
      runStart = -1;
    }
  }
  if (runStart >= 0) write(runStart, length);
}

/** The worker's body (run from its text): takes ranges of each segment it is sent, in order. */
function workerMain(lib: CopyLib): void {
  // The worker's text runs as a script, where Node puts `require` on the global
  // object (a bundler would rename a bare `require`).
  const load = (globalThis as unknown as { require: NodeJS.Require }).require;
  const { parentPort, workerData } = load("node:worker_threads");
  const nodeFs = load("node:fs");
  const buffer = new Uint8Array(workerData.bufferSize);
  const scratch = {};
  let out = -1;
  let blockSize = 4096;
  let joinGap = 4096;
  // Shared memory by slot, kept from its first use.
  const slots: { control: Int32Array; numbers: Float64Array; paths: Uint8Array }[] = [];
  parentPort.on(
    "message",
    (m: {
      fd?: number;
      blockSize?: number;
      joinGap?: number;
      id: number;
      slot: number;
      control?: Int32Array;
      numbers?: Float64Array;
      paths?: Uint8Array;
    }) => {
      if (m.fd !== undefined) {
        out = m.fd;
        blockSize = m.blockSize ?? blockSize;
        joinGap = m.joinGap ?? blockSize;
        return;
      }
      if (m.control && m.numbers && m.paths) {
        slots[m.slot] = { control: m.control, numbers: m.numbers, paths: m.paths };
      }
      const shared = slots[m.slot] as (typeof slots)[number];
      const failed = lib.takeRanges(
        lib,
        nodeFs,
        out,
        shared.control,
        shared.numbers,
        shared.paths,
        buffer,
        scratch,
        blockSize,
        joinGap,
        workerData.failed,
        false,
        (index: number, runs: number[] | undefined) =>
          parentPort.postMessage({ segment: m.id, index, runs: runs ?? null }),
      );
      // Done with this use of the slot: the pool may fill it again.
      Atomics.add(shared.control, 5, 1);
      if (failed) parentPort.postMessage({ segment: m.id, ...failed });
    },
  );
}
