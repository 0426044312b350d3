/**
 * ext2/ext3 filesystems in user space: `mkfs` streams a filesystem built from
 * directories and tar archives; the reader opens images (bare or inside a disk
 * image) for ls, cat, stat, extract and check.
 *
 * @module
 */
export * from "./format/mod.ts";
export * from "./write/mod.ts";
export * from "./read/mod.ts";
