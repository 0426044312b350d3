/**
 * Where a writer puts an image file. Writers write each byte range at most
 * once and may skip ranges that stay zero, so a sink over a fresh file can
 * leave holes wherever it is given zeros. A sink that is not `seekable` (a
 * pipe) accepts only increasing positions; gaps are sent as zeros.
 */
export interface ImageSink {
  /** Whether writes may go to any position (a regular file) or only forward (a pipe). */
  readonly seekable: boolean;
  /** Writes `bytes` at `position` of the image file. */
  write(position: number, bytes: Uint8Array): Promise<void>;
  /** Ends the file at `size` bytes (padding with zeros or setting the length). */
  end(size: number): Promise<void>;
}

/** What a writer produced. */
export interface WriteResult {
  /** Length of the image file in bytes. */
  fileSize: number;
  /** Virtual disk size the image declares, in bytes. */
  virtualSize: number;
  /** Bytes of guest data stored (clusters, grains or blocks that hold data). */
  dataBytes: number;
}

/** A raw disk image to convert: its size and its bytes in order (holes as zeros). */
export interface RawImage {
  /** Size in bytes. */
  size: number;
  /** Exactly `size` bytes; chunks may be reused buffers (they are consumed before the next pull). */
  data: AsyncIterable<Uint8Array>;
  /**
   * Where the data is, when known up front: `[offset, length, ...]` byte runs
   * in order; every byte outside them is zero. With it, qcow2, dynamic VHD and
   * monolithicSparse VMDK plan their tables before the data and stream to a
   * pipe (uncompressed). A run may hold zeros; data outside the runs is an error.
   */
  dataRuns?: readonly number[];
}

/**
 * The allocation units (of `unitSize` bytes) that the data runs of an image
 * touch, in order.
 *
 * @example Usage
 * ```ts
 * import { unitsWithData } from "@bigfile/vdisk";
 * unitsWithData([0, 512, 65536 * 3 - 1, 2], 65536); // [0, 2, 3]
 * ```
 */
export function unitsWithData(runs: readonly number[], unitSize: number): number[] {
  const units: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const start = runs[i] as number;
    const length = runs[i + 1] as number;
    if (length <= 0) continue;
    const first = Math.floor(start / unitSize);
    const last = Math.floor((start + length - 1) / unitSize);
    for (let u = Math.max(first, (units.at(-1) ?? -1) + 1); u <= last; u++) units.push(u);
  }
  return units;
}

/**
 * An in-memory seekable sink, for tests and small images.
 *
 * @example Usage
 * ```ts
 * import { MemorySink } from "@bigfile/vdisk";
 * const sink = new MemorySink();
 * await sink.write(4, new Uint8Array([1]));
 * await sink.end(8);
 * sink.bytes(); // Uint8Array(8) [0, 0, 0, 0, 1, 0, 0, 0]
 * ```
 */
export class MemorySink implements ImageSink {
  readonly seekable: boolean;
  #buffer = new Uint8Array(1 << 16);
  #length = 0;
  constructor(options: { seekable?: boolean } = {}) {
    this.seekable = options.seekable ?? true;
  }
  write(position: number, bytes: Uint8Array): Promise<void> {
    if (!this.seekable && position < this.#length) {
      return Promise.reject(
        new RangeError(`Cannot write at ${position}: a stream is already at ${this.#length}`),
      );
    }
    this.#grow(position + bytes.length);
    this.#buffer.set(bytes, position);
    this.#length = Math.max(this.#length, position + bytes.length);
    return Promise.resolve();
  }
  end(size: number): Promise<void> {
    this.#grow(size);
    if (size < this.#length) this.#buffer.fill(0, size, this.#length);
    this.#length = size;
    return Promise.resolve();
  }
  /** The file written so far. */
  bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }
  #grow(size: number): void {
    if (size <= this.#buffer.length) return;
    const next = new Uint8Array(Math.max(size, this.#buffer.length * 2));
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
  }
}
