/**
 * A loop device without root: block devices over files, memory and slices,
 * sparse-aware sinks that write holes, size parsing, and the byte-stream
 * helpers every bigfile package builds on.
 *
 * @example Usage
 * ```ts
 * import { FileDevice, SliceDevice, parseSize } from "@bigfile/blockdev";
 * const disk = await FileDevice.open("big.img");
 * const part1 = new SliceDevice(disk, { offset: parseSize("63s"), length: parseSize("8080632s") });
 * const superblock = await part1.read(1024, 1024);
 * await disk.close();
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
export * from "./copy_pool.ts";
export * from "./data_regions.ts";
export * from "./data_runs.ts";
export * from "./exact_reader.ts";
export * from "./file_device.ts";
export * from "./file_sink.ts";
export * from "./file_source.ts";
export * from "./fixed_chunk_stream.ts";
export * from "./memory_device.ts";
export * from "./size.ts";
export * from "./slice_device.ts";
export * from "./tar/mod.ts";
export * from "./zeros.ts";
