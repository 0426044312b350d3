/**
 * The Node-specific half of `@bigfile/blockdev`: block devices over files,
 * sparse-aware file sinks and sources, the thread pool that copies file ranges,
 * data runs of sparse files, and the standard-stream helpers of the command
 * lines (also at `@bigfile/blockdev/stdio`). The core is at `@bigfile/blockdev`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { parseSize, SliceDevice } from "@bigfile/blockdev";
 * import { FileDevice } from "@bigfile/blockdev/node";
 * await writeFile("big.img", new Uint8Array(1 << 20));
 * const disk = await FileDevice.open("big.img");
 * const part1 = new SliceDevice(disk, { offset: parseSize("63s"), length: parseSize("1000s") });
 * const superblock = await part1.read(1024, 1024);
 * assert.equal(superblock.length, 1024);
 * await disk.close();
 * ```
 *
 * @module
 */
export * from "./copy_pool.ts";
export * from "./data_regions.ts";
export * from "./data_runs.ts";
export * from "./file_device.ts";
export * from "./file_ranges.ts";
export * from "./file_sink.ts";
export * from "./file_source.ts";
export * from "./file_xattrs.ts";
export * from "./native_addon.ts";
export * from "./stdio/mod.ts";
