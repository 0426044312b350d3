import { closeSync, openSync, readSync, statSync } from "node:fs";
import { zeros } from "@bigfile/blockdev";
import { dataRegions, findDataRuns } from "@bigfile/blockdev/node";
import type { RawImage } from "./image_sink.ts";

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
}

/**
 * A raw image file as a {@linkcode RawImage} whose holes are known. Where the
 * kernel tells where a file's data is (SEEK_DATA, through blockdev's native
 * addon), its allocated regions become the `dataRuns` and are read once, as
 * the image streams; elsewhere the file is scanned now for its non-zero 1 KiB
 * units (around the page cache when it is big and mostly unallocated). Either
 * way only the data is read while converting; the rest comes as views of one
 * shared zero buffer, which writers skip (as they skip zero clusters inside a
 * run). A file that is mostly data is read whole, as one run.
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
  const runs =
    ((options.seekData ?? true) ? kernelRuns(path, size) : undefined) ??
    scannedRuns(path, size, stat.blocks * 512);
  return { size, data: rawFileChunks(path, size, runs), dataRuns: runs };
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
