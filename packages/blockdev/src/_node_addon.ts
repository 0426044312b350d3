/**
 * The package's Node-API addon (native/*.c): calls Node has no binding for,
 * loaded once, shared by {@linkcode dataRegions}, {@linkcode readXattrs},
 * {@linkcode copyFileRange} and {@linkcode nonZeroRuns}.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

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

/** The addon file (one for the whole package, named after its first function). */
const ADDON_FILE = `native/${process.platform}-${process.arch}/data_regions.node`;

/** undefined: not tried yet; null: not available here. */
let addon: NativeAddon | null | undefined;

/**
 * The addon built by the repository's `scripts/build-native.mjs`, loaded on first use: beside
 * this module in `dist/`, or (when this code was bundled into another
 * package's command line) in the installed package's `dist/`.
 */
export function nativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  const require = createRequire(import.meta.url);
  const places = [
    () => require.resolve(`./${ADDON_FILE}`),
    () => join(dirname(require.resolve("@bigfile/blockdev/package.json")), "dist", ADDON_FILE),
  ];
  for (const place of places) {
    try {
      addon = require(place()) as NativeAddon;
      break;
    } catch {}
  }
  return addon;
}
