// Feature bit names as dumpe2fs prints them: compat, then incompat, then ro_compat, each by bit.

import { COMPAT, INCOMPAT, RO_COMPAT } from "../format/_feature_names.ts";

export const COMPAT_HAS_JOURNAL = 0x4;
export const COMPAT_EXT_ATTR = 0x8;
export const COMPAT_RESIZE_INODE = 0x10;
export const COMPAT_DIR_INDEX = 0x20;
export const INCOMPAT_LARGE_DIR = 0x4000;
export const INCOMPAT_COMPRESSION = 0x1;
export const INCOMPAT_FILETYPE = 0x2;
export const INCOMPAT_RECOVER = 0x4;
export const INCOMPAT_JOURNAL_DEV = 0x8;
export const INCOMPAT_META_BG = 0x10;
export const INCOMPAT_EXTENTS = 0x40;
export const INCOMPAT_64BIT = 0x80;
export const INCOMPAT_FLEX_BG = 0x200;
export const INCOMPAT_DIRDATA = 0x1000;
export const INCOMPAT_INLINE_DATA = 0x8000;
export const RO_COMPAT_SPARSE_SUPER = 0x1;
export const RO_COMPAT_HUGE_FILE = 0x8;
export const RO_COMPAT_GDT_CSUM = 0x10;
export const RO_COMPAT_DIR_NLINK = 0x20;
export const RO_COMPAT_BIGALLOC = 0x200;
export const RO_COMPAT_METADATA_CSUM = 0x400;
export const RO_COMPAT_QUOTA = 0x100;

/** The incompat features this reader understands; any other bit refuses the image. */
export const INCOMPAT_READABLE =
  INCOMPAT_FILETYPE |
  INCOMPAT_RECOVER |
  INCOMPAT_META_BG |
  INCOMPAT_EXTENTS |
  INCOMPAT_64BIT |
  0x100 | // mmp
  INCOMPAT_FLEX_BG |
  0x400 | // ea_inode (extended attributes only)
  0x2000 | // metadata_csum_seed
  0x4000 | // large_dir
  0x10000 | // encrypt: refused per file
  0x20000; // casefold: names are stored as given

function names(table: Record<number, string>, bits: number, prefix: string): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    const mask = 2 ** bit;
    if (bits & mask) out.push(table[mask] ?? `FEATURE_${prefix}${bit}`);
  }
  return out;
}

/** Feature names in dumpe2fs order. */
export function featureNames(compat: number, incompat: number, roCompat: number): string[] {
  return [
    ...names(COMPAT, compat, "C"),
    ...names(INCOMPAT, incompat, "I"),
    ...names(RO_COMPAT, roCompat, "R"),
  ];
}

/** Names of incompat bits outside `allowed`. */
export function unknownIncompat(incompat: number, allowed: number): string[] {
  return names(INCOMPAT, incompat & ~allowed & 0xffffffff, "I");
}
