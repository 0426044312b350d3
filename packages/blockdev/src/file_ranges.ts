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
  return hasNativeDataRegions() && typeof nativeAddon()?.copyRange === "function";
}

function checkRange(what: string, ...numbers: number[]): void {
  for (const n of numbers) {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new TypeError(`${what}: expected non-negative integers, got ${n}`);
    }
  }
}

/**
 * Copies `length` bytes of the file open as `inFd`, from `inOffset`, to the
 * file open as `outFd` at `outOffset`, without them passing through
 * JavaScript: `copy_file_range(2)`, so the kernel copies the pages (or shares
 * them, where the filesystem has reflinks), falling back to read/write where
 * it refuses. Throws if the source ends early.
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
  checkRange("copyFileRange", inFd, inOffset, outFd, outOffset, length);
  if (hasNativeFileRanges()) {
    (nativeAddon() as NativeAddon).copyRange(inFd, inOffset, outFd, outOffset, length);
    return;
  }
  const buffer = new Uint8Array(Math.min(BUFFER_BYTES, length));
  for (let done = 0; done < length; ) {
    const got = readSync(inFd, buffer, 0, Math.min(buffer.length, length - done), inOffset + done);
    if (got === 0) {
      throw Object.assign(
        new Error("the source file ended before the range did (did it shrink?)"),
        {
          code: "EIO",
        },
      );
    }
    for (let put = 0; put < got; ) {
      put += writeSync(outFd, buffer, put, got - put, outOffset + done + put);
    }
    done += got;
  }
}

/**
 * Which `unit`-byte units of a file range hold a non-zero byte: byte runs
 * `[offset, length, ...]` in order, clipped to the range (units are aligned
 * to the file's start; `unit` divides 1 MiB). Past the file's end nothing is
 * data. Read in C where the addon is built.
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
  checkRange("nonZeroRuns", fd, offset, length, unit);
  if (unit < 1 || BUFFER_BYTES % unit !== 0) {
    throw new TypeError(`nonZeroRuns: the unit must divide 1 MiB, got ${unit}`);
  }
  if (hasNativeFileRanges()) {
    return (nativeAddon() as NativeAddon).nonZeroRuns(fd, offset, length, unit);
  }
  const runs: number[] = [];
  const buffer = new Uint8Array(BUFFER_BYTES);
  const end = offset + length;
  for (let at = offset; at < end; ) {
    const want = Math.min(end, (Math.floor(at / BUFFER_BYTES) + 1) * BUFFER_BYTES) - at;
    const got = readSync(fd, buffer, 0, want, at);
    if (got === 0) break;
    for (let u = at; u < at + got; ) {
      const uEnd = Math.min(at + got, (Math.floor(u / unit) + 1) * unit);
      if (!isZero(buffer.subarray(u - at, uEnd - at))) {
        const last = runs.length - 2;
        if (last >= 0 && (runs[last] as number) + (runs[last + 1] as number) === u) {
          runs[last + 1] = (runs[last + 1] as number) + uEnd - u;
        } else runs.push(u, uEnd - u);
      }
      u = uEnd;
    }
    at += got;
  }
  return runs;
}
