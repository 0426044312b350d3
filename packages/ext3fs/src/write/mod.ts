/**
 * The streamed ext2/ext3 writer: `mkfs` plans a filesystem from directories
 * and tar archives and streams it; `filesystemOutput` and `createCopier`
 * send it to a file with worker threads; `computeGeometry` gives the numbers
 * mke2fs would choose. The tree it builds in memory and its internals are
 * not exported.
 *
 * @example Usage
 * ```ts
 * import { mkfs } from "@bigfile/ext3fs/writer";
 * import { writeToFile } from "@bigfile/blockdev";
 * const image = await mkfs(["rootfs/"], { blocks: 4040316, seed: "v1" });
 * await writeToFile(image.chunks({ reuseBuffers: true }), "part.img");
 * ```
 *
 * @module
 */

export type { EmitOptions, RangeCopier } from "./_output_options.ts";
export * from "./errors.ts";
export * from "./filesystem_output.ts";
export * from "./geometry.ts";
export {
  type MkfsImage,
  type MkfsOptions,
  type MkfsReport,
  type MkfsSource,
  mkfs,
  WALK_ABOVE_ENTRIES,
  type WriteToDeviceOptions,
  writeImageToDevice,
} from "./mkfs.ts";
