/** A partition's size in 1-KiB blocks as the legacy fdisk listing shows it. */
export interface FdiskBlocks {
  /** Whole KiB. */
  blocks: number;
  /** Whether a half KiB is left over (fdisk prints a `+`). */
  odd: boolean;
  /** The column text: `4040316` or `4040316+`. */
  text: string;
}

/**
 * The "Blocks" column of the legacy fdisk listing: a partition's size in
 * 1024-byte blocks, with `+` when sectors leave a remainder.
 *
 * @param sectors The partition's size in sectors.
 * @param sectorSize Bytes per sector. @default 512
 *
 * @example The seed's partition
 * ```ts
 * import { fdiskBlocks } from "@bigfile/chs-geometry";
 * fdiskBlocks(8080632).text; // "4040316"
 * ```
 */
export function fdiskBlocks(sectors: number, sectorSize = 512): FdiskBlocks {
  if (!Number.isSafeInteger(sectors) || sectors < 0) {
    throw new RangeError(
      `Cannot count blocks of ${sectors} sectors: expected a non-negative integer`,
    );
  }
  const bytes = sectors * sectorSize;
  const blocks = Math.floor(bytes / 1024);
  const odd = bytes % 1024 !== 0;
  return { blocks, odd, text: `${blocks}${odd ? "+" : ""}` };
}
