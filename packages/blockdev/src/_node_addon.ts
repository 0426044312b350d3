/**
 * The package's Node-API addon (native/*.c): calls Node has no binding for,
 * loaded once, shared by {@linkcode dataRegions}, {@linkcode readXattrs},
 * {@linkcode copyFileRange} and {@linkcode nonZeroRuns}.
 */
import { loadNativeAddon } from "./native_addon.ts";

/** What the addon offers. */
export interface NativeAddon {
  dataRegions(fd: number, start: number, end: number): number[];
  /** llistxattr + lgetxattr: [name, value, ...] (Linux only). */
  listXattrs?(path: string | Uint8Array): (string | Uint8Array)[];
  /** copy_file_range, else pread/pwrite, of [outOffset, inOffset, length, ...] (native/file_ranges.c). */
  copyRanges(inFd: number, outFd: number, ranges: readonly number[]): void;
  /** Byte runs of the non-zero units of a file range. */
  nonZeroRuns(fd: number, offset: number, length: number, unit: number): number[];
}

/** undefined: not tried yet; null: not available here. */
let addon: NativeAddon | null | undefined;

/** The addon (one for the whole package, named after its first function), loaded on first use. */
export function nativeAddon(): NativeAddon | null {
  if (addon === undefined) {
    addon = loadNativeAddon(
      import.meta.url,
      "@bigfile/blockdev",
      "data_regions",
    ) as NativeAddon | null;
  }
  return addon;
}
