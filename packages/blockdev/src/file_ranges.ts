import { readSync, writeSync } from "node:fs";
import { type NativeAddon, nativeAddon } from "./_node_addon.ts";
import { hasNativeDataRegions } from "./data_regions.ts";
import { isZero } from "./zeros.ts";

const BUFFER_BYTES = 1 << 20;

/**
 * Whether {@linkcode copyFileRange} and {@linkcode nonZeroRuns} run natively
 * (the addon loaded, `BIGFILE_NO_NATIVE` not 1): the kernel copies, C scans.
 * Without it both still work, through JavaScript buffers, several times slower.
 *
 * @example Usage
 * ```ts
 * import { hasNativeFileRanges } from "@bigfile/blockdev/node";
 * console.log(hasNativeFileRanges()); // true on Linux once built with a C compiler
 * ```
 */
export function hasNativeFileRanges(): boolean {
  return hasNativeDataRegions() && typeof nativeAddon()?.copyRanges === "function";
}

/** Arguments as an array: a copy's ranges may be far more numbers than a call takes arguments. */
function checkRange(what: string, numbers: readonly number[]): void {
  for (const n of numbers) {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new TypeError(`${what}: expected non-negative integers, got ${n}`);
    }
  }
}

/**
 * Copies `length` bytes of the file open as `inFd`, from `inOffset`, to the
 * file open as `outFd` at `outOffset`: {@linkcode copyFileRanges} for one range.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
 * import { copyFileRange } from "@bigfile/blockdev/node";
 * writeFileSync("from.bin", "0123456789");
 * const from = openSync("from.bin", "r");
 * const to = openSync("to.bin", "w");
 * copyFileRange(from, 2, to, 100, 5); // "23456" at byte 100, a hole before it
 * closeSync(from);
 * closeSync(to);
 * assert.equal(readFileSync("to.bin").subarray(100).toString(), "23456");
 * ```
 */
export function copyFileRange(
  inFd: number,
  inOffset: number,
  outFd: number,
  outOffset: number,
  length: number,
): void {
  copyFileRanges(inFd, outFd, [outOffset, inOffset, length]);
}

/**
 * Copies ranges of the file open as `inFd` into the file open as `outFd`,
 * without them passing through JavaScript: `ranges` is `[outOffset,
 * inOffset, length, ...]`. Natively this is `copy_file_range(2)`, so the
 * kernel copies the pages (or shares them, where the filesystem has
 * reflinks); where the kernel refuses, read and write. Throws if the source ends before a range does.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
 * import { copyFileRanges } from "@bigfile/blockdev/node";
 * writeFileSync("from.bin", "0123456789");
 * const from = openSync("from.bin", "r");
 * const to = openSync("to.bin", "w");
 * copyFileRanges(from, to, [0, 8, 2, 2, 0, 3]); // "89" then "012"
 * closeSync(from);
 * closeSync(to);
 * assert.equal(readFileSync("to.bin").toString(), "89012");
 * ```
 */
export function copyFileRanges(inFd: number, outFd: number, ranges: readonly number[]): void {
  checkRange("copyFileRanges", [inFd, outFd]);
  checkRange("copyFileRanges", ranges);
  if (ranges.length % 3 !== 0) {
    throw new TypeError("copyFileRanges: ranges are [outOffset, inOffset, length, ...] triples");
  }
  if (hasNativeFileRanges()) {
    (nativeAddon() as NativeAddon).copyRanges(inFd, outFd, ranges);
    return;
  }
  const buffer = new Uint8Array(BUFFER_BYTES);
  for (let i = 0; i < ranges.length; i += 3) {
    const outOffset = ranges[i] as number;
    const inOffset = ranges[i + 1] as number;
    const length = ranges[i + 2] as number;
    for (let done = 0; done < length; ) {
      const want = Math.min(buffer.length, length - done);
      const got = readSync(inFd, buffer, 0, want, inOffset + done);
      if (got === 0) {
        throw Object.assign(
          new Error("the source file ended before the range did (did it shrink?)"),
          { code: "EIO" },
        );
      }
      for (let put = 0; put < got; ) {
        put += writeSync(outFd, buffer, put, got - put, outOffset + done + put);
      }
      done += got;
    }
  }
}

/**
 * Which `unit`-byte units of a file range hold a non-zero byte: byte runs
 * `[offset, length, ...]` in order, clipped to the range (units are aligned
 * to the file's start; `unit` is a power of two from 512 to 2^30). Past the
 * file's end nothing is data. Read in C where the addon is built; units of
 * 64 KiB and more are read only up to their first non-zero byte, so a scan
 * at an image format's cluster size reads a fraction of the data.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeSync, openSync, writeSync } from "node:fs";
 * import { nonZeroRuns } from "@bigfile/blockdev/node";
 * const fd = openSync("some.img", "w+");
 * writeSync(fd, new Uint8Array(16384).fill(7, 5000, 5001)); // one non-zero byte in the second 4 KiB
 * assert.deepEqual(nonZeroRuns(fd, 0, 16384, 4096), [4096, 4096]);
 * closeSync(fd);
 * ```
 */
export function nonZeroRuns(fd: number, offset: number, length: number, unit: number): number[] {
  checkRange("nonZeroRuns", [fd, offset, length, unit]);
  if (unit < 512 || unit > 2 ** 30 || (unit & (unit - 1)) !== 0) {
    throw new TypeError(
      `nonZeroRuns: the unit must be a power of two from 512 to 2^30, got ${unit}`,
    );
  }
  if (hasNativeFileRanges()) {
    return (nativeAddon() as NativeAddon).nonZeroRuns(fd, offset, length, unit);
  }
  const runs: number[] = [];
  const add = (start: number, end: number) => {
    const last = runs.length - 2;
    if (last >= 0 && (runs[last] as number) + (runs[last + 1] as number) === start) {
      runs[last + 1] = end - (runs[last] as number);
    } else runs.push(start, end - start);
  };
  const buffer = new Uint8Array(BUFFER_BYTES);
  const end = offset + length;
  for (let at = offset; at < end; ) {
    if (unit <= BUFFER_BYTES) {
      // A MiB at a time: reads end on whole MiBs, so on whole units.
      const to = Math.min(end, (Math.floor(at / BUFFER_BYTES) + 1) * BUFFER_BYTES);
      const got = readSync(fd, buffer, 0, to - at, at);
      if (got === 0) break;
      for (let u = at; u < at + got; ) {
        const uEnd = Math.min(at + got, (Math.floor(u / unit) + 1) * unit);
        if (!isZero(buffer.subarray(u - at, uEnd - at))) add(u, uEnd);
        u = uEnd;
      }
      at += got;
      continue;
    }
    // A bigger unit: MiB pieces up to its first non-zero byte.
    const unitEnd = Math.min(end, (Math.floor(at / unit) + 1) * unit);
    let data = false;
    for (let p = at; p < unitEnd && !data; ) {
      const got = readSync(fd, buffer, 0, Math.min(BUFFER_BYTES, unitEnd - p), p);
      if (got === 0) return runs;
      data = !isZero(buffer.subarray(0, got));
      p += got;
    }
    if (data) add(at, unitEnd);
    at = unitEnd;
  }
  return runs;
}
