/**
 * The writer's core: `computeGeometry` gives the numbers mke2fs would choose
 * for a size, and the typed errors of planning a filesystem. The streamed
 * writer itself (`mkfs` from directories and tar files, `filesystemOutput`
 * with its copy threads) reads files, so it is in `@bigfile/ext3fs/node`.
 *
 * @example Usage
 * ```ts
 * import { computeGeometry } from "@bigfile/ext3fs/writer";
 * const geometry = computeGeometry({ bytes: 4040316 * 1024, blockSize: 1024 });
 * console.log(geometry);
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./geometry.ts";
