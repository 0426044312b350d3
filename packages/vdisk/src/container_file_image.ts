import { closeSync, fstatSync, openSync } from "node:fs";
import { dataRegions, nonZeroRuns } from "@bigfile/blockdev/node";
import { CopyBatches } from "./_copy_file_batches.ts";
import { FdSink } from "./file_sink.ts";
import type { ImageDevice } from "./image_device.ts";
import type { ImageSink, RawImage } from "./image_sink.ts";

/** Bytes read through the device at a time (compressed units). */
const READ_CHUNK = 1 << 20;
/** Kinds of a stored piece, as numbers in the flat table. */
const FILE = 0;
const READ = 1;

/** Options for {@linkcode containerFileImage}. */
export interface ContainerFileImageOptions {
  /**
   * Where the stored data is read for zeros: units of this many bytes (a
   * power of two from 512) that hold only zeros are left out of `dataRuns`,
   * as for a raw file (give the output format's allocation unit; units of
   * 64 KiB and more are read only up to their first non-zero byte). 0 keeps
   * every allocated unit. The file's holes (lseek `SEEK_DATA`) are left out
   * either way. @default 4096
   */
  zeroUnit?: number;
  /**
   * Called as a file-to-file copy ({@linkcode RawImage.copierFor}) goes,
   * with the offset of the disk reached.
   */
  onCopyProgress?: (done: number) => void;
}

/**
 * The disk inside an opened container (a qcow2, VHD or VMDK `device` read
 * from the file at `path`) as a {@linkcode RawImage} whose `dataRuns` are its
 * allocated units, less the file's holes and units of zeros, and whose
 * `copierFor` a file sink puts the disk into that file without its data
 * passing through JavaScript: what is stored as is (qcow2 plain clusters,
 * VHD blocks, monolithicSparse grains) is copied by the kernel from the
 * container file (`copy_file_range`, blockdev's `copyFileRanges`), what is
 * compressed (qcow2 compressed clusters, stream grains) is read through the
 * device and written. `data` is the device's `chunks()`, for other sinks.
 * Reads the image's tables (and VHD sector bitmaps) now, as the device
 * checks them.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { readFileSync, writeFileSync } from "node:fs";
 * import { FileDevice } from "@bigfile/blockdev/node";
 * import { openImage, writeImage } from "@bigfile/vdisk";
 * import { containerFileImage, rawFileImage, writeImageFile } from "@bigfile/vdisk/node";
 * const raw = new Uint8Array(4 << 20); // a 4 MiB disk: a boot signature and zeros
 * raw.set([0x55, 0xaa], 510);
 * writeFileSync("big.img", raw);
 * await writeImageFile("big.qcow2", (sink) => writeImage(rawFileImage("big.img"), "qcow2", sink));
 * const device = await openImage(await FileDevice.open("big.qcow2", { readOnly: true }));
 * const image = await containerFileImage(device, "big.qcow2");
 * assert.deepEqual(image.dataRuns, [0, 4096]); // the boot sector's 4 KiB
 * await writeImageFile("back.img", (sink) => writeImage(image, "raw", sink));
 * await device.close();
 * assert.deepEqual(readFileSync("back.img"), Buffer.from(raw));
 * ```
 */
export async function containerFileImage(
  device: ImageDevice,
  path: string,
  options: ContainerFileImageOptions = {},
): Promise<RawImage> {
  const zeroUnit = options.zeroUnit ?? 4096;
  if (zeroUnit !== 0 && (zeroUnit < 512 || (zeroUnit & (zeroUnit - 1)) !== 0)) {
    throw new RangeError(
      `Cannot scan for zeros in units of ${zeroUnit} bytes: expected 0 or a power of two from 512`,
    );
  }
  // The stored pieces of the allocated runs, flat: [offset, length, kind, host, ...].
  const pieces: number[] = [];
  for (const piece of await device.hostRanges(0, device.size)) {
    if (piece.kind === "zero") continue;
    pieces.push(piece.offset, piece.length, piece.kind === "file" ? FILE : READ, piece.host);
  }
  const dataRuns = storedRuns(path, pieces, zeroUnit);
  return {
    size: device.size,
    data: device.chunks(),
    dataRuns,
    copierFor: (sink: ImageSink) =>
      sink instanceof FdSink && sink.seekable
        ? (ranges) => copyRanges(path, device, pieces, sink, ranges, options.onCopyProgress)
        : undefined,
  };
}

/** The runs of the disk that may hold data: pieces read through the device whole, stored ones less holes and zero units. */
function storedRuns(path: string, pieces: readonly number[], zeroUnit: number): number[] {
  const runs: number[] = [];
  const add = (start: number, length: number) => {
    if (length <= 0) return;
    const last = runs.length - 2;
    if (last >= 0 && (runs[last] as number) + (runs[last + 1] as number) === start) {
      runs[last + 1] = (runs[last + 1] as number) + length;
    } else runs.push(start, length);
  };
  const fd = openSync(path, "r");
  try {
    // The file's data regions ([offset, length, ...]; undefined: the kernel cannot say, all data).
    const regions = dataRegions(fd, 0, fstatSync(fd).size);
    for (let p = 0; p + 3 < pieces.length; p += 4) {
      const offset = pieces[p] as number;
      const length = pieces[p + 1] as number;
      const host = pieces[p + 3] as number;
      if (pieces[p + 2] === READ) {
        add(offset, length);
        continue;
      }
      // Host units line up with the disk's where host - offset is a multiple of them.
      let unit = zeroUnit;
      while (unit > 512 && Math.abs(host - offset) % unit !== 0) unit /= 2;
      const scan = unit > 0 && Math.abs(host - offset) % unit === 0;
      for (const [from, to] of within(regions, host, host + length)) {
        if (!scan) {
          add(offset + from - host, to - from);
          continue;
        }
        const found = nonZeroRuns(fd, from, to - from, unit);
        for (let r = 0; r + 1 < found.length; r += 2) {
          add(offset + (found[r] as number) - host, found[r + 1] as number);
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return runs;
}

/** The parts of `[start, end)` of the file inside its data regions (all of it without them). */
function within(
  regions: readonly number[] | undefined,
  start: number,
  end: number,
): [number, number][] {
  if (!regions) return [[start, end]];
  const lo = firstEndingAfter(regions, 2, start);
  const parts: [number, number][] = [];
  for (let r = 2 * lo; r + 1 < regions.length && (regions[r] as number) < end; r += 2) {
    const from = Math.max(start, regions[r] as number);
    const to = Math.min(end, (regions[r] as number) + (regions[r + 1] as number));
    if (to > from) parts.push([from, to]);
  }
  return parts;
}

/**
 * The index of the first record (`stride` numbers: start, length, ...) that
 * ends after `offset`, in a flat table of records in order that do not overlap.
 */
function firstEndingAfter(table: readonly number[], stride: number, offset: number): number {
  let lo = 0;
  let hi = table.length / stride;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const at = stride * mid;
    if ((table[at] as number) + (table[at + 1] as number) <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Puts `[position, offset, length, ...]` triples of the disk into the sink's
 * file: stored pieces copied from the container file in the kernel, the
 * others read through the device and written. What no piece covers reads as
 * zeros and is left a hole.
 */
async function copyRanges(
  path: string,
  device: ImageDevice,
  pieces: readonly number[],
  sink: FdSink,
  ranges: readonly number[],
  onProgress: ((done: number) => void) | undefined,
): Promise<void> {
  const input = openSync(path, "r");
  try {
    const batches = new CopyBatches(input, sink.fd, onProgress);
    for (let i = 0; i + 2 < ranges.length; i += 3) {
      const position = ranges[i] as number;
      const offset = ranges[i + 1] as number;
      const end = offset + (ranges[i + 2] as number);
      for (let p = firstEndingAfter(pieces, 4, offset); 4 * p + 3 < pieces.length; p++) {
        const start = pieces[4 * p] as number;
        if (start >= end) break;
        const from = Math.max(offset, start);
        const to = Math.min(end, start + (pieces[4 * p + 1] as number));
        if (pieces[4 * p + 2] === FILE) {
          const host = (pieces[4 * p + 3] as number) + (from - start);
          batches.add(position + from - offset, host, to - from, to);
        } else {
          for (let at = from; at < to; ) {
            const n = Math.min(READ_CHUNK - (at % READ_CHUNK), to - at);
            await sink.write(position + at - offset, await device.read(at, n));
            at += n;
            onProgress?.(at);
          }
        }
      }
    }
    batches.flush(ranges.length >= 3 ? (ranges.at(-2) as number) + (ranges.at(-1) as number) : 0);
  } finally {
    closeSync(input);
  }
}
