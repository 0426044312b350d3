import { type Chs, lbaToChs } from "./chs.ts";
import { type GeometryOptions, normalizeGeometry } from "./geometry.ts";

/** The largest cylinder a 3-byte MBR CHS field can hold. */
export const MAX_MBR_CYLINDER = 1023;

/**
 * Packs a CHS address into the 3 bytes of an MBR partition entry: head; sector
 * (bits 0-5) with cylinder bits 8-9 in bits 6-7; cylinder bits 0-7. 0/1/1
 * packs as `01 01 00`. Throws `RangeError` when a value does not fit.
 *
 * @example Usage
 * ```ts
 * import { packChs } from "@bigfile/chs-geometry";
 * packChs({ cylinder: 1023, head: 254, sector: 63 }); // Uint8Array [0xfe, 0xff, 0xff]
 * ```
 */
export function packChs(chs: Chs): Uint8Array {
  const { cylinder, head, sector } = chs;
  if (!Number.isInteger(cylinder) || cylinder < 0 || cylinder > MAX_MBR_CYLINDER) {
    throw new RangeError(`Cannot pack CHS: cylinder ${cylinder} is outside 0..1023`);
  }
  if (!Number.isInteger(head) || head < 0 || head > 255) {
    throw new RangeError(`Cannot pack CHS: head ${head} is outside 0..255`);
  }
  if (!Number.isInteger(sector) || sector < 0 || sector > 63) {
    throw new RangeError(`Cannot pack CHS: sector ${sector} is outside 0..63`);
  }
  return new Uint8Array([head, sector | ((cylinder >> 2) & 0xc0), cylinder & 0xff]);
}

/**
 * Unpacks the 3 bytes of an MBR CHS field (`bytes[offset..offset+2]`):
 * `FE FF FF` reads as 1023/254/63.
 *
 * @example Usage
 * ```ts
 * import { unpackChs } from "@bigfile/chs-geometry";
 * unpackChs(new Uint8Array([0x01, 0x01, 0x00])); // { cylinder: 0, head: 1, sector: 1 }
 * ```
 */
export function unpackChs(bytes: Uint8Array, offset = 0): Chs {
  if (offset < 0 || offset + 3 > bytes.length) {
    throw new RangeError(`Cannot unpack CHS at offset ${offset}: only ${bytes.length} bytes`);
  }
  const h = bytes[offset] as number;
  const s = bytes[offset + 1] as number;
  const c = bytes[offset + 2] as number;
  return { cylinder: ((s & 0xc0) << 2) | c, head: h, sector: s & 0x3f };
}

/**
 * The CHS address an MBR entry stores for `lba`, as sfdisk writes it: past
 * cylinder 1023 the address is clamped to the last one the field can hold,
 * 1023/(heads-1)/sectorsPerTrack, which is 1023/254/63 (`FE FF FF`) for the
 * usual 255/63 geometry.
 *
 * @example Usage
 * ```ts
 * import { lbaToMbrChs } from "@bigfile/chs-geometry";
 * lbaToMbrChs(63); // { cylinder: 0, head: 1, sector: 1 }
 * lbaToMbrChs(20000000); // { cylinder: 1023, head: 254, sector: 63 }
 * ```
 */
export function lbaToMbrChs(lba: number, geometry: GeometryOptions = {}): Chs {
  const g = normalizeGeometry(geometry);
  const chs = lbaToChs(lba, g);
  if (chs.cylinder <= MAX_MBR_CYLINDER) return chs;
  return { cylinder: MAX_MBR_CYLINDER, head: g.heads - 1, sector: g.sectorsPerTrack };
}

/**
 * The 3 bytes an MBR entry stores for `lba`: {@linkcode lbaToMbrChs} then
 * {@linkcode packChs}.
 *
 * @example Usage
 * ```ts
 * import { lbaToMbrChsBytes } from "@bigfile/chs-geometry";
 * lbaToMbrChsBytes(8080694); // Uint8Array [0xfe, 0x7f, 0xf6]
 * ```
 */
export function lbaToMbrChsBytes(lba: number, geometry: GeometryOptions = {}): Uint8Array {
  return packChs(lbaToMbrChs(lba, geometry));
}
