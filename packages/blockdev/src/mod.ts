/**
 * A loop device without root, for any JavaScript runtime: block devices over
 * memory, Blobs and slices, size parsing, tar streams, and the byte-stream
 * helpers every bigfile package builds on. Only `Uint8Array`, `DataView` and
 * Web Streams: no Node built-ins (files, stdio and threads are in
 * `@bigfile/blockdev/node`).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryDevice, parseSize, SliceDevice } from "@bigfile/blockdev";
 * const disk = new MemoryDevice(new Uint8Array(1 << 20));
 * const part1 = new SliceDevice(disk, { offset: parseSize("63s"), length: parseSize("1000s") });
 * assert.equal(part1.size, 512_000);
 * const superblock = await part1.read(1024, 1024);
 * assert.equal(superblock.length, 1024);
 * ```
 *
 * @module
 */
export * from "./blob_device.ts";
export * from "./block_device.ts";
export * from "./byte_count_stream.ts";
export * from "./byte_range_stream.ts";
export * from "./collect_bytes.ts";
export * from "./concat_streams.ts";
export * from "./exact_reader.ts";
export * from "./fixed_chunk_stream.ts";
export * from "./image_placement.ts";
export * from "./memory_device.ts";
export * from "./size.ts";
export * from "./slice_device.ts";
export * from "./tar/mod.ts";
export * from "./zeros.ts";
