import { type NativeAddon, nativeAddon } from "./_node_addon.ts";

/**
 * Whether {@linkcode dataRegions} can ask the kernel (the native addon loaded,
 * and `BIGFILE_NO_NATIVE` is not set to 1).
 *
 * @example Usage
 * ```ts
 * import { hasNativeDataRegions } from "@bigfile/blockdev/node";
 * // true on Linux once the package was built with a C compiler
 * console.log(typeof hasNativeDataRegions());
 * ```
 */
export function hasNativeDataRegions(): boolean {
  return process.env.BIGFILE_NO_NATIVE !== "1" && nativeAddon() !== null;
}

/**
 * Where the data of an open file lies between `start` and `end`, from the
 * kernel (lseek SEEK_DATA/SEEK_HOLE, which Node has no binding for): byte
 * `[offset, length, ...]` pairs in order, holes between them. Regions are
 * what the filesystem allocated, so they may still hold zeros; a filesystem
 * that does not track holes reports one region. Returns undefined when the
 * answer is not available — no addon (no C compiler at build time, another
 * platform, `BIGFILE_NO_NATIVE=1`) or a file or filesystem that refuses
 * SEEK_DATA (EINVAL, a pipe) — and the caller reads the file instead.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeSync, openSync, writeSync } from "node:fs";
 * import { dataRegions, hasNativeDataRegions } from "@bigfile/blockdev/node";
 * const fd = openSync("big.img", "w+");
 * writeSync(fd, new Uint8Array(4096).fill(1), 0, 4096, 64 << 20); // data at 64 MiB, a hole before
 * const regions = dataRegions(fd, 0, (64 << 20) + 4096);
 * closeSync(fd);
 * // [offset, length, ...]; undefined when the kernel cannot tell (no addon, a filesystem without holes)
 * if (hasNativeDataRegions() && regions) assert.equal(regions.at(-2), 64 << 20);
 * ```
 */
export function dataRegions(fd: number, start: number, end: number): number[] | undefined {
  if (!hasNativeDataRegions()) return undefined;
  try {
    return (nativeAddon() as NativeAddon).dataRegions(fd, start, end);
  } catch (error) {
    if (error instanceof TypeError) throw error;
    return undefined;
  }
}
