import { closeSync, openSync, readSync, statSync } from "node:fs";
import { zeros } from "@bigfile/blockdev";
import {
  dataRegions,
  findDataRuns,
  hasNativeFileRanges,
  nonZeroRuns,
} from "@bigfile/blockdev/node";
import { CopyBatches } from "./_copy_file_batches.ts";
import { FdSink } from "./file_sink.ts";
import type { ImageSink, RawImage } from "./image_sink.ts";

const UNIT = 1024; // findDataRuns' unit
const CHUNK = 1 << 20;

/** Options for {@linkcode rawFileImage}. */
export interface RawFileImageOptions {
  /**
   * Ask the kernel where the data is (lseek SEEK_DATA, blockdev's
   * `dataRegions`) instead of reading the file for zeros first. Both give
   * the same image; false is the slow path, for tests. @default true
   */
  seekData?: boolean;
  /**
   * Called as a file-to-file copy ({@linkcode RawImage.copierFor}) goes,
   * with the offset of the raw image reached: the copy reads no `data`.
   */
  onCopyProgress?: (done: number) => void;
  /**
   * Where the kernel's regions are read for zeros (the native path): units
   * of this many bytes (a power of two) that hold only zeros are left out of
   * `dataRuns`. Give the output format's allocation unit (a qcow2 cluster, a
   * VMDK grain, a VHD block): units of 64 KiB and more are read only up to
   * their first non-zero byte. 0 takes the regions as they are, as `cp`
   * does (for raw and fixed VHD, which have no allocation unit). @default 4096
   */
  zeroUnit?: number;
}

/**
 * A raw image file as a {@linkcode RawImage} whose holes are known. With
 * blockdev's native addon, the kernel says where the file's data is
 * (SEEK_DATA), C reads those regions for units of zeros (`zeroUnit`), and
 * the image offers `copierFor`: into a file, writers plan their tables from
 * the runs and the kernel copies the data (copy_file_range), which never
 * passes through JavaScript. Without the addon, the file is scanned now for
 * its non-zero 1 KiB units (around the page cache when it is big and mostly
 * unallocated) and the data is read once as the image streams; the rest
 * comes as views of one shared zero buffer, which writers skip (as they skip
 * zero clusters inside a run). A file that is mostly data is read whole, as
 * one run.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { writeImage } from "@bigfile/vdisk";
 * import { rawFileImage, writeImageFile } from "@bigfile/vdisk/node";
 * const raw = new Uint8Array(4 << 20); // a 4 MiB disk: a boot signature and zeros
 * raw.set([0x55, 0xaa], 510);
 * await writeFile("big.img", raw);
 * const image = rawFileImage("big.img");
 * assert.equal(image.size, 4 << 20);
 * await writeImageFile("big.qcow2", (sink) => writeImage(image, "qcow2", sink));
 * ```
 */
export function rawFileImage(path: string, options: RawFileImageOptions = {}): RawImage {
  const stat = statSync(path);
  if (!stat.isFile())
    throw new TypeError(`Cannot read '${path}' as a raw image: not a regular file`);
  const size = stat.size;
  const seekData = options.seekData ?? true;
  if (seekData && hasNativeFileRanges()) {
    // The data found in C: the allocated regions, less their units of zeros;
    // then writers plan their tables and the kernel copies the data.
    const runs = nativeRuns(path, size, options.zeroUnit ?? 4096);
    return {
      size,
      data: rawFileChunks(path, size, runs),
      dataRuns: runs,
      copierFor: (sink: ImageSink) =>
        sink instanceof FdSink && sink.seekable
          ? (ranges) => copyRanges(path, sink.fd, ranges, options.onCopyProgress)
          : undefined,
    };
  }
  const runs =
    (seekData ? kernelRuns(path, size) : undefined) ?? scannedRuns(path, size, stat.blocks * 512);
  return { size, data: rawFileChunks(path, size, runs), dataRuns: runs };
}

/** The non-zero units of the file's allocated regions (all of it where the kernel cannot tell). */
function nativeRuns(path: string, size: number, unit: number): number[] {
  const fd = openSync(path, "r");
  try {
    const regions = dataRegions(fd, 0, size) ?? (size > 0 ? [0, size] : []);
    if (unit === 0) return regions;
    // Regions are separated by holes, so the runs of one never touch the next's.
    const runs: number[] = [];
    for (let i = 0; i + 1 < regions.length; i += 2) {
      // One push per number: a region may have more runs than a call takes arguments.
      for (const n of nonZeroRuns(fd, regions[i] as number, regions[i + 1] as number, unit)) {
        runs.push(n);
      }
    }
    return runs;
  } finally {
    closeSync(fd);
  }
}

/** Copies `[position, offset, length, ...]` triples of the file at `path` into `fd`, in the kernel. */
async function copyRanges(
  path: string,
  fd: number,
  ranges: readonly number[],
  onProgress: ((done: number) => void) | undefined,
): Promise<void> {
  const input = openSync(path, "r");
  try {
    const batches = new CopyBatches(input, fd, onProgress);
    for (let i = 0; i + 2 < ranges.length; i += 3) {
      const offset = ranges[i + 1] as number;
      const length = ranges[i + 2] as number;
      batches.add(ranges[i] as number, offset, length, offset + length);
    }
    if (ranges.length >= 3) batches.flush((ranges.at(-2) as number) + (ranges.at(-1) as number));
  } finally {
    closeSync(input);
  }
}

/** The file's allocated regions, from the kernel; undefined where it cannot say. */
function kernelRuns(path: string, size: number): number[] | undefined {
  const fd = openSync(path, "r");
  try {
    return dataRegions(fd, 0, size);
  } finally {
    closeSync(fd);
  }
}

/** Byte runs of the file's non-zero 1 KiB units, read from it; the whole file when mostly data. */
function scannedRuns(path: string, size: number, allocated: number): number[] {
  // undefined: every unit holds data (or the file is dense): read it all.
  const units =
    allocated < size / 2 ? findDataRuns(path, { size, allocated, seekData: false }) : undefined;
  // Mostly data: one run (its zero clusters are allocated when tables are planned up front).
  if (!units) return size > 0 ? [0, size] : [];
  const bytes: number[] = [];
  for (let i = 0; i < units.length; i += 2) {
    const start = (units[i] as number) * UNIT;
    bytes.push(start, Math.min(size, start + (units[i + 1] as number) * UNIT) - start);
  }
  return bytes;
}

async function* rawFileChunks(
  path: string,
  size: number,
  runs: readonly number[],
): AsyncGenerator<Uint8Array> {
  // Synchronous reads, as cat does: an image being converted is usually in
  // the page cache, where a thread-pool hop per MiB costs more than the copy.
  const fd = openSync(path, "r");
  const buffer = new Uint8Array(CHUNK);
  // Chunks end at whole MiBs of the disk, so writers' blocks (which divide or
  // are multiples of a MiB) come as views of them rather than copies.
  const readRange = function* (from: number, to: number) {
    for (let at = from, want = 0; at < to; at += want) {
      want = Math.min(CHUNK - (at % CHUNK), to - at);
      let got = 0;
      while (got < want) {
        const bytesRead = readSync(fd, buffer, got, want - got, at + got);
        if (bytesRead === 0)
          throw new RangeError(`Cannot read '${path}': it shrank while being read`);
        got += bytesRead;
      }
      yield buffer.subarray(0, want);
    }
  };
  const zeroRange = function* (from: number, to: number) {
    for (let at = from, length = 0; at < to; at += length) {
      length = Math.min(CHUNK - (at % CHUNK), to - at);
      yield zeros(length);
    }
  };
  try {
    let position = 0;
    for (let i = 0; i < runs.length; i += 2) {
      const start = runs[i] as number;
      const end = start + (runs[i + 1] as number);
      yield* zeroRange(position, start);
      yield* readRange(start, end);
      position = end;
    }
    yield* zeroRange(position, size);
  } finally {
    closeSync(fd);
  }
}
