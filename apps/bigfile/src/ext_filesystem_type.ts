import type { Superblock } from "@bigfile/ext3fs";

// The features ext2/ext3 drivers know; anything beyond them needs ext4 (blkid's rule).
const EXT3_INCOMPAT = 0x0002 | 0x0004 | 0x0010; // filetype, recover, meta_bg
const EXT2_INCOMPAT = 0x0002 | 0x0010; // filetype, meta_bg
const EXT23_RO_COMPAT = 0x0001 | 0x0002 | 0x0004; // sparse_super, large_file, btree_dir
const COMPAT_HAS_JOURNAL = 0x0004;

/**
 * The filesystem type as blkid names it: the oldest driver that mounts it
 * (a journal makes ext3; a feature ext2/ext3 drivers lack makes ext4).
 *
 * @param sb The superblock's three feature words.
 * @returns `ext2`, `ext3` or `ext4`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { extFilesystemType } from "@bigfile/bigfile/inspect";
 * // has_journal; filetype; sparse_super, large_file: what mke2fs -t ext3 sets
 * assert.equal(extFilesystemType({ featureCompat: 0x4, featureIncompat: 0x2, featureRoCompat: 0x3 }), "ext3");
 * ```
 */
export function extFilesystemType(
  sb: Pick<Superblock, "featureCompat" | "featureIncompat" | "featureRoCompat">,
): "ext2" | "ext3" | "ext4" {
  if (sb.featureRoCompat & ~EXT23_RO_COMPAT) return "ext4";
  if (sb.featureCompat & COMPAT_HAS_JOURNAL) {
    return sb.featureIncompat & ~EXT3_INCOMPAT ? "ext4" : "ext3";
  }
  return sb.featureIncompat & ~EXT2_INCOMPAT ? "ext4" : "ext2";
}
