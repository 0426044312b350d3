/**
 * On-disk structures of ext2/ext3: constants and encode/decode functions for
 * the superblock, group descriptors, inodes, directory entries, the JBD2
 * journal superblock and extended-attribute headers.
 *
 * @example Usage
 * ```ts
 * import { decodeSuperblock, superblockBlockSize } from "@bigfile/ext3fs";
 * const sb = decodeSuperblock(image.subarray(1024, 2048));
 * console.log(superblockBlockSize(sb));
 * ```
 *
 * @module
 */

export { formatUuid, parseUuid } from "./_bytes.ts";
export * from "./constants.ts";
export * from "./dir_entry.ts";
export * from "./errors.ts";
export * from "./ext_attr.ts";
export * from "./group_descriptor.ts";
export * from "./inode.ts";
export * from "./journal_superblock.ts";
export * from "./superblock.ts";
