/**
 * ext2/ext3/ext4 filesystems in user space, the core for any JavaScript
 * runtime: the on-disk codecs, the reader (ls, cat, stat, check over any
 * `BlockDevice`, a tar stream of a tree) and the writer's geometry and errors.
 * Only `Uint8Array`, `DataView` and Web Streams: no Node built-ins.
 *
 * Each part has its own entry too: `@bigfile/ext3fs/format` (the on-disk
 * codecs and constants), `@bigfile/ext3fs/reader` and `@bigfile/ext3fs/writer`.
 * What needs files, threads or processes (`mkfs` from directories and tar
 * files, `filesystemOutput`, `openImageFile`, `extractToDirectory`) is in
 * `@bigfile/ext3fs/node`; the command line's `main` in `@bigfile/ext3fs/cli`.
 *
 * @example Usage
 * ```ts
 * import { FilesystemReader } from "@bigfile/ext3fs";
 * import { MemoryDevice } from "@bigfile/blockdev";
 * const image = new Uint8Array(1 << 20); // an ext2/3/4 image's bytes, e.g. from a Blob
 * try {
 *   const fs = await FilesystemReader.open(new MemoryDevice(image));
 *   console.log(await fs.readdir("/"));
 * } catch (error) {
 *   console.log(`not a filesystem: ${error}`);
 * }
 * ```
 *
 * @module
 */
export * from "./format/mod.ts";
export * from "./read/mod.ts";
export * from "./write/mod.ts";
