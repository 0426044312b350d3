import { type GeometryOptions, normalizeGeometry } from "./geometry.ts";

/** A cylinder/head/sector address; sectors count from 1. */
export interface Chs {
  cylinder: number;
  head: number;
  sector: number;
}

/**
 * The CHS address of a logical block address in a geometry (no clamping: the
 * cylinder may exceed 1023; see {@linkcode lbaToMbrChs} for the MBR field).
 *
 * @example Usage
 * ```ts
 * import { lbaToChs } from "@bigfile/chs-geometry";
 * lbaToChs(63); // { cylinder: 0, head: 1, sector: 1 }
 * lbaToChs(8080694); // { cylinder: 502, head: 254, sector: 63 }
 * ```
 */
export function lbaToChs(lba: number, geometry: GeometryOptions = {}): Chs {
  if (!Number.isSafeInteger(lba) || lba < 0) {
    throw new RangeError(`Cannot convert LBA ${lba} to CHS: expected a non-negative integer`);
  }
  const { heads, sectorsPerTrack } = normalizeGeometry(geometry);
  const track = Math.floor(lba / sectorsPerTrack);
  return {
    cylinder: Math.floor(track / heads),
    head: track % heads,
    sector: (lba % sectorsPerTrack) + 1,
  };
}

/**
 * The logical block address of a CHS address in a geometry. Throws
 * `RangeError` when the head or sector does not exist in the geometry.
 *
 * @example Usage
 * ```ts
 * import { chsToLba } from "@bigfile/chs-geometry";
 * chsToLba({ cylinder: 0, head: 1, sector: 1 }); // 63
 * ```
 */
export function chsToLba(chs: Chs, geometry: GeometryOptions = {}): number {
  const { heads, sectorsPerTrack } = normalizeGeometry(geometry);
  const { cylinder, head, sector } = chs;
  if (!Number.isSafeInteger(cylinder) || cylinder < 0) {
    throw new RangeError(
      `Cannot convert CHS to LBA: cylinder ${cylinder} is not a non-negative integer`,
    );
  }
  if (!Number.isInteger(head) || head < 0 || head >= heads) {
    throw new RangeError(`Cannot convert CHS to LBA: head ${head} is outside 0..${heads - 1}`);
  }
  if (!Number.isInteger(sector) || sector < 1 || sector > sectorsPerTrack) {
    throw new RangeError(
      `Cannot convert CHS to LBA: sector ${sector} is outside 1..${sectorsPerTrack}`,
    );
  }
  return (cylinder * heads + head) * sectorsPerTrack + sector - 1;
}

/**
 * Parses `C/H/S` (also `C,H,S` or `C H S`) into a {@linkcode Chs}. Throws
 * `SyntaxError` for other text.
 *
 * @example Usage
 * ```ts
 * import { parseChs } from "@bigfile/chs-geometry";
 * parseChs("502/254/63"); // { cylinder: 502, head: 254, sector: 63 }
 * ```
 */
export function parseChs(text: string): Chs {
  const m = /^\s*(\d+)\s*[/,\s]\s*(\d+)\s*[/,\s]\s*(\d+)\s*$/.exec(text);
  if (!m) throw new SyntaxError(`Cannot parse CHS address '${text}': expected C/H/S, like 0/1/1`);
  return { cylinder: Number(m[1]), head: Number(m[2]), sector: Number(m[3]) };
}

/** Formats a CHS address as `C/H/S`. */
export function formatChs(chs: Chs): string {
  return `${chs.cylinder}/${chs.head}/${chs.sector}`;
}
