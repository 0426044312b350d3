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
  /**
   * A way to put the image's bytes into `sink` without reading `data`, when
   * the image and the sink both live in files (the Node side's raw files copy
   * file to file in the kernel): a function taking `[position, offset,
   * length, ...]` triples (where in the image file, where in the raw image,
   * how many bytes), or undefined for sinks it cannot copy into. Offered only
   * with `dataRuns` that cover every non-zero byte; writers then plan their
   * tables from the runs and never read `data`.
   */
  copierFor?(sink: ImageSink): ((ranges: readonly number[]) => Promise<void>) | undefined;
}

/**
 * The copier of `image` into `sink` ({@linkcode RawImage.copierFor}), when it
 * has one, its data runs are known and the sink can seek.
 *
 * @example Usage
 * ```ts
 * import { directCopier, MemorySink } from "@bigfile/vdisk";
 * const image = { size: 4096, data: [] as unknown as AsyncIterable<Uint8Array> };
 * directCopier(image, new MemorySink()); // undefined: the image offers none
 * ```
 */
export function directCopier(
  image: RawImage,
  sink: ImageSink,
): ((ranges: readonly number[]) => Promise<void>) | undefined {
  if (!image.dataRuns || !sink.seekable) return undefined;
  return image.copierFor?.(sink);
}

/**
 * Copy ranges (see {@linkcode RawImage.copierFor}) that put the image's data
 * runs at the same offsets of the image file (raw, fixed VHD), clipped to
 * `imageSize`.
 *
 * @example Usage
 * ```ts
 * import { sameOffsetRanges } from "@bigfile/vdisk";
 * sameOffsetRanges([0, 512, 8192, 4096], 10000); // [0, 0, 512, 8192, 8192, 1808]
 * ```
 */
export function sameOffsetRanges(runs: readonly number[], imageSize: number): number[] {
  const ranges: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const offset = runs[i] as number;
    const length = Math.min(runs[i + 1] as number, imageSize - offset);
    if (length > 0) ranges.push(offset, offset, length);
  }
  return ranges;
}

/**
 * Copy ranges (see {@linkcode RawImage.copierFor}) that put the image's data
 * runs into the slots of allocated units: `units` (indices of `unitSize`-byte
 * units of the raw image, in order) go to `slotOf(k)` for the k-th of them,
 * and of each unit only what the runs cover is copied (the rest of its slot
 * stays a hole, which reads as zeros). Neighbours coalesce.
 *
 * @example Usage
 * ```ts
 * import { placedRanges } from "@bigfile/vdisk";
 * // Units 2 and 3 of 64 KiB, data in 4 KiB at the start of 2 and all of 3, into consecutive slots from 1 MiB.
 * placedRanges([131072, 4096, 196608, 65536], [2, 3], 65536, (k) => (1 << 20) + k * 65536);
 * // [1048576, 131072, 4096, 1114112, 196608, 65536]
 * ```
 */
export function placedRanges(
  runs: readonly number[],
  units: readonly number[],
  unitSize: number,
  slotOf: (k: number) => number,
): number[] {
  const ranges: number[] = [];
  let r = 0; // the first run that may still reach the current unit
  for (let k = 0; k < units.length; k++) {
    const start = (units[k] as number) * unitSize;
    const end = start + unitSize;
    const slot = slotOf(k);
    while (r + 1 < runs.length && (runs[r] as number) + (runs[r + 1] as number) <= start) r += 2;
    for (let i = r; i + 1 < runs.length && (runs[i] as number) < end; i += 2) {
      const from = Math.max(start, runs[i] as number);
      const to = Math.min(end, (runs[i] as number) + (runs[i + 1] as number));
      if (to <= from) continue;
      const position = slot + (from - start);
      const last = ranges.length - 3;
      if (
        last >= 0 &&
        (ranges[last] as number) + (ranges[last + 2] as number) === position &&
        (ranges[last + 1] as number) + (ranges[last + 2] as number) === from
      ) {
        ranges[last + 2] = (ranges[last + 2] as number) + to - from;
      } else ranges.push(position, from, to - from);
    }
  }
  return ranges;
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
