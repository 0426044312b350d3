/**
 * Cylinder/head/sector geometry as fdisk computes it: the geometry of a size
 * (255 heads, 63 sectors per track), LBA<->CHS, the 3-byte CHS fields of an
 * MBR entry (clamped to `FE FF FF` past cylinder 1023), and fdisk's KiB blocks.
 *
 * @example The seed's big file
 * ```ts
 * import { geometryOf, lbaToMbrChsBytes } from "@bigfile/chs-geometry";
 * geometryOf(4141875200).cylinders; // 503
 * lbaToMbrChsBytes(63); // Uint8Array [0x01, 0x01, 0x00]
 * ```
 *
 * @module
 */

export * from "./blocks.ts";
export * from "./chs.ts";
export * from "./geometry.ts";
export * from "./mbr_chs.ts";
