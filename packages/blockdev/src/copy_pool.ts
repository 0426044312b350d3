import * as fs from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** Options for {@linkcode CopyPool}. */
export interface CopyPoolOptions {
  /** Worker threads. @default one less than the available cores, at least 1, at most 4 */
  threads?: number;
  /** Zero runs of this size (from each range's start) are skipped, left as holes. @default 4096 */
  holeBlockSize?: number;
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
 * workers, spells them out): ranges claimed (0), filled (1), done (2), sealed (3).
 */
const FILLED = 1;
const DONE = 2;
const SEALED = 3;
/**
 * Numbers per range: source offset, length, destination offset (-1: only
 * check that the source can be read), path offset, path length.
 */
const FIELDS = 5;

/**
 * A block of queued ranges in shared memory. The caller appends ranges and
 * raises FILLED; every thread (the workers, and the caller when it helps)
 * takes the next range by raising CLAIMED, and raises DONE when it is copied.
 */
interface Segment {
  id: number;
  control: Int32Array;
  numbers: Float64Array;
  paths: Uint8Array;
  pathBytes: number;
  /** Labels for messages, where a range's label is not its path. */
  labels: Map<number, string>;
}

/** What a worker reports of a failed range. */
interface WorkerFailure {
  segment: number;
  index: number;
  message: string;
  code?: string | undefined;
}

/**
 * Copies byte ranges of files into one output file on worker threads, so that
 * reading sources and writing the output overlap with the caller's own work
 * (`mkfs` on two cores). Zero blocks of a range are skipped, so the output must
 * read as zeros where nothing is written: a new file or a hole. Ranges wait in
 * shared memory, taken in order by whichever thread is free; while the caller
 * waits in {@linkcode CopyPool.finish} it copies too, and when the queue is
 * full it copies rather than queue more, so memory stays bounded. The same
 * threads can check that files are readable ({@linkcode CopyPool.check}) while
 * the caller is busy planning.
 *
 * @example Usage
 * ```ts
 * import { closeSync, openSync } from "node:fs";
 * import { CopyPool } from "@bigfile/blockdev";
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
 * ```
 */
export class CopyPool {
  readonly #workers: Worker[] = [];
  readonly #holeBlockSize: number;
  readonly #maxSegments: number;
  /** Set (to 1) by the first thread that fails: all stop taking ranges. */
  readonly #failed = new Int32Array(new SharedArrayBuffer(4));
  /** Segments not yet all copied, oldest first. */
  readonly #segments: Segment[] = [];
  #nextId = 0;
  #fd = -1;
  #offset = 0;
  #failure: Error | undefined;
  #reported: Promise<WorkerFailure>;
  #report: (failure: WorkerFailure) => void = () => {};
  #buffer: Uint8Array | undefined;
  #closed = false;

  /** Starts the workers (they boot while the caller prepares its first ranges). */
  constructor(options: CopyPoolOptions = {}) {
    this.#holeBlockSize = options.holeBlockSize ?? 4096;
    this.#maxSegments = Math.max(1, Math.ceil((options.maxQueued ?? 65536) / SEGMENT_RANGES));
    this.#reported = new Promise((resolve) => {
      this.#report = resolve;
    });
    const threads = options.threads ?? Math.min(4, Math.max(1, availableParallelism() - 1));
    const source = `${copyRange.toString()}\n${takeRanges.toString()}\n(${workerMain.toString()})(${copyRange.name}, ${takeRanges.name});`;
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(source, {
        eval: true,
        workerData: {
          bufferSize: BUFFER_SIZE,
          holeBlockSize: this.#holeBlockSize,
          failed: this.#failed,
        },
      });
      worker.on("message", (failure: WorkerFailure) => this.#report(failure));
      worker.on("error", (error) => {
        Atomics.store(this.#failed, 0, 1);
        this.#failure ??= error;
        this.#report({ segment: -1, index: -1, message: error.message });
      });
      worker.unref();
      this.#workers.push(worker);
    }
  }

  /** The output: a descriptor open for writing; positions are counted from `offset`. */
  attach(fd: number, offset = 0): void {
    this.#fd = fd;
    this.#offset = offset;
    for (const worker of this.#workers) worker.postMessage({ fd });
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
    if (length > 0) this.#queue(path, srcOffset, length, this.#offset + dstOffset, label);
  }

  /**
   * Checks, now or later, that the file at `path` can be read (access(2) for
   * reading), as the caller plans; {@linkcode CopyPool.finish} throws if not,
   * naming `label` (default: the path).
   */
  check(path: string | Uint8Array, label?: string): void {
    this.#queue(path, 0, 0, -1, label);
  }

  /** Queues a range (or, with `dstOffset` -1, a check). */
  #queue(
    path: string | Uint8Array,
    srcOffset: number,
    length: number,
    dstOffset: number,
    label: string | undefined,
  ): void {
    if (Atomics.load(this.#failed, 0)) {
      throw this.#failure ?? new Error("a copy failed (CopyPool.finish tells which)");
    }
    const bytes = typeof path === "string" ? new TextEncoder().encode(path) : path;
    let segment = this.#segments[this.#segments.length - 1];
    let filled = segment ? Atomics.load(segment.control, FILLED) : 0;
    if (
      !segment ||
      filled === SEGMENT_RANGES ||
      segment.pathBytes + bytes.length > SEGMENT_PATH_BYTES
    ) {
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
      segment = this.#newSegment(Math.max(SEGMENT_PATH_BYTES, bytes.length));
      filled = 0;
    }
    const at = filled * FIELDS;
    segment.numbers[at] = srcOffset;
    segment.numbers[at + 1] = length;
    segment.numbers[at + 2] = dstOffset;
    segment.numbers[at + 3] = segment.pathBytes;
    segment.numbers[at + 4] = bytes.length;
    segment.paths.set(bytes, segment.pathBytes);
    segment.pathBytes += bytes.length;
    if (label !== undefined) segment.labels.set(filled, label);
    Atomics.store(segment.control, FILLED, filled + 1);
    Atomics.notify(segment.control, FILLED);
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
    this.#segments.length = 0;
    // Idle workers no longer keep the process alive.
    for (const worker of this.#workers) worker.unref();
  }

  /** Stops the workers; ranges not yet copied are dropped. */
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
      this.#segments.shift();
    }
  }

  #newSegment(pathBytes: number): Segment {
    const segment: Segment = {
      id: this.#nextId++,
      control: new Int32Array(new SharedArrayBuffer(16)),
      numbers: new Float64Array(new SharedArrayBuffer(SEGMENT_RANGES * FIELDS * 8)),
      paths: new Uint8Array(new SharedArrayBuffer(pathBytes)),
      pathBytes: 0,
      labels: new Map(),
    };
    this.#segments.push(segment);
    for (const worker of this.#workers) {
      worker.ref();
      worker.postMessage({
        id: segment.id,
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
      copyRange,
      fs,
      this.#fd,
      segment.control,
      segment.numbers,
      segment.paths,
      this.#buffer,
      this.#holeBlockSize,
      this.#failed,
      true,
    );
    if (failed) this.#report({ segment: segment.id, ...failed });
  }

  async #failureError(): Promise<Error> {
    if (this.#failure) return this.#failure;
    const f = await this.#reported;
    const segment = this.#segments.find((s) => s.id === f.segment);
    const label = segment?.labels.get(f.index) ?? pathText(segment, f.index);
    this.#failure = Object.assign(new Error(`Cannot read ${label}: ${f.message}`), {
      code: f.code,
    });
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

/**
 * Takes ranges of a segment in order and copies them until none is left (or,
 * for a worker, until the segment is sealed and empty); returns the failure
 * that stopped it. Self-contained (its text also runs inside the workers).
 */
function takeRanges(
  copy: typeof copyRange,
  nodeFs: typeof fs,
  out: number,
  control: Int32Array,
  numbers: Float64Array,
  paths: Uint8Array,
  buffer: Uint8Array,
  holeBlockSize: number,
  failed: Int32Array,
  onlyFilled: boolean,
): { index: number; message: string; code?: string | undefined } | undefined {
  for (;;) {
    if (Atomics.load(failed, 0)) return undefined;
    let index: number;
    if (onlyFilled) {
      // The caller takes a range only if one is waiting: it never waits for more.
      const claimed = Atomics.load(control, 0);
      if (claimed >= Atomics.load(control, 1)) return undefined;
      if (Atomics.compareExchange(control, 0, claimed, claimed + 1) !== claimed) continue;
      index = claimed;
    } else {
      index = Atomics.add(control, 0, 1);
      for (;;) {
        const filled = Atomics.load(control, 1);
        if (index < filled) break;
        if (Atomics.load(control, 3)) return undefined;
        Atomics.wait(control, 1, filled);
      }
    }
    const at = index * 5;
    const from = numbers[at + 3] as number;
    const path = Buffer.from(paths.buffer, paths.byteOffset + from, numbers[at + 4] as number);
    try {
      const dstOffset = numbers[at + 2] as number;
      if (dstOffset < 0) nodeFs.accessSync(path, nodeFs.constants.R_OK);
      else {
        copy(
          nodeFs,
          out,
          path,
          numbers[at] as number,
          numbers[at + 1] as number,
          dstOffset,
          buffer,
          holeBlockSize,
        );
      }
    } catch (e) {
      Atomics.store(failed, 0, 1);
      Atomics.add(control, 2, 1);
      Atomics.notify(control, 2);
      return { index, message: (e as Error).message, code: (e as { code?: string }).code };
    }
    Atomics.add(control, 2, 1);
    Atomics.notify(control, 2);
  }
}

/**
 * Copies one range, skipping zero blocks. Self-contained (its text also runs
 * inside the workers): everything it uses comes in as arguments or is global.
 */
function copyRange(
  nodeFs: typeof fs,
  out: number,
  path: Buffer,
  srcOffset: number,
  length: number,
  dstOffset: number,
  buffer: Uint8Array,
  holeBlockSize: number,
): void {
  const fd = nodeFs.openSync(path, "r");
  try {
    for (let done = 0; done < length; ) {
      const want = Math.min(buffer.length, length - done);
      let got = 0;
      while (got < want) {
        const n = nodeFs.readSync(fd, buffer, got, want - got, srcOffset + done + got);
        if (n <= 0) {
          throw new Error(
            `it ended at ${srcOffset + done + got} bytes, expected at least ${srcOffset + length} (changed while it was copied?)`,
          );
        }
        got += n;
      }
      // Write runs of blocks that hold data; a block whose first bytes are not
      // all zero is data without a full comparison.
      const write = (from: number, to: number): void => {
        for (let w = from; w < to; ) {
          w += nodeFs.writeSync(out, buffer, w, to - w, dstOffset + done + w);
        }
      };
      let runStart = -1;
      for (let at = 0; at < got; at += holeBlockSize) {
        const end = Math.min(at + holeBlockSize, got);
        let zero = true;
        for (let i = at; i < end; i++) {
          if (buffer[i] !== 0) {
            zero = false;
            break;
          }
        }
        if (!zero) {
          if (runStart < 0) runStart = at;
        } else if (runStart >= 0) {
          write(runStart, at);
          runStart = -1;
        }
      }
      if (runStart >= 0) write(runStart, got);
      done += got;
    }
  } finally {
    nodeFs.closeSync(fd);
  }
}

/** The worker's body (run from its text): takes ranges of each segment it is sent, in order. */
function workerMain(copy: typeof copyRange, take: typeof takeRanges): void {
  // The worker's text runs as a script, where Node puts `require` on the global
  // object (a bundler would rename a bare `require`).
  const load = (globalThis as unknown as { require: NodeJS.Require }).require;
  const { parentPort, workerData } = load("node:worker_threads");
  const nodeFs = load("node:fs");
  const buffer = new Uint8Array(workerData.bufferSize);
  let out = -1;
  parentPort.on(
    "message",
    (m: {
      fd?: number;
      id: number;
      control: Int32Array;
      numbers: Float64Array;
      paths: Uint8Array;
    }) => {
      if (m.fd !== undefined) {
        out = m.fd;
        return;
      }
      const failed = take(
        copy,
        nodeFs,
        out,
        m.control,
        m.numbers,
        m.paths,
        buffer,
        workerData.holeBlockSize,
        workerData.failed,
        false,
      );
      if (failed) parentPort.postMessage({ segment: m.id, ...failed });
    },
  );
}
