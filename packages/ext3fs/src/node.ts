/**
 * The Node-specific half of `@bigfile/ext3fs`: `mkfs` builds a filesystem from
 * directories and tar files and streams it, `filesystemOutput` and
 * `createCopier` send it to a file with worker threads, `openImageFile` opens
 * an image file (bare or inside a disk image) for the reader, and
 * `extractToDirectory` writes a tree out. The core is at `@bigfile/ext3fs`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, stat, writeFile } from "node:fs/promises";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { mkfs } from "@bigfile/ext3fs/node";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * // the seed's: { blocks: 4040316 }
 * const image = await mkfs(["rootfs/"], { blocks: 8192, seed: "v1" });
 * await writeToFile(image.chunks({ reuseBuffers: true }), "part.img");
 * assert.equal((await stat("part.img")).size, 8192 * 1024);
 * ```
 *
 * @module
 */
export * from "./read/extract_to_directory_file.ts";
export * from "./read/open_image_file.ts";
export type { EmitOptions, RangeCopier } from "./write/_output_options.ts";
export * from "./write/filesystem_output.ts";
export {
  type MkfsImage,
  type MkfsOptions,
  type MkfsReport,
  type MkfsSource,
  mkfs,
  WALK_ABOVE_ENTRIES,
  type WriteToDeviceOptions,
  writeImageToDevice,
} from "./write/mkfs.ts";
