/**
 * ext2/ext3 filesystems in user space: `mkfs` streams a filesystem built from
 * directories and tar archives; the reader opens images (bare or inside a disk
 * image) for ls, cat, stat, extract and check.
 *
 * Each part has its own entry too: `@bigfile/ext3fs/format` (the on-disk
 * codecs and constants), `@bigfile/ext3fs/reader` and `@bigfile/ext3fs/writer`.
 *
 * @example Usage
 * ```ts
 * import { mkfs } from "@bigfile/ext3fs";
 * import { writeToFile } from "@bigfile/blockdev";
 * const image = await mkfs(["rootfs/"], { blocks: 4040316, seed: "v1" });
 * await writeToFile(image.chunks({ reuseBuffers: true }), "part.img");
 * ```
 *
 * @module
 */
export * from "./format/mod.ts";
export * from "./read/mod.ts";
export * from "./write/mod.ts";
