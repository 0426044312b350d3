/**
 * On-disk structures of ext2/ext3: constants and encode/decode functions for
 * the superblock, group descriptors, inodes, directory entries, the JBD2
 * journal superblock and extended-attribute headers.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, readFile, writeFile } from "node:fs/promises";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { mkfs } from "@bigfile/ext3fs/node";
 * import { decodeSuperblock, superblockBlockSize } from "@bigfile/ext3fs";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * await writeToFile((await mkfs(["rootfs"], { size: 8 << 20, seed: "docs" })).chunks(), "root.ext3");
 * const image = await readFile("root.ext3");
 * const sb = decodeSuperblock(image.subarray(1024, 2048));
 * assert.equal(superblockBlockSize(sb) * sb.blocksCount, 8 << 20);
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
