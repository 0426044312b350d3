/**
 * DOS (MBR) partition tables without fdisk: parse and build sector 0 and the
 * EBR chain of logical partitions, validate, plan layouts (cylinder, MiB or
 * sector alignment), read and write sfdisk scripts and JSON, print fdisk's
 * listings, and patch a table into an image stream as it passes.
 *
 * @example The seed's partition inside the big file
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPartitions } from "@bigfile/mbr";
 * import { FileDevice, writeToFile } from "@bigfile/blockdev/node";
 * import { findPartition, planWrap, wrapPartition } from "@bigfile/mbr";
 * // A disk like the seed's, smaller: partition 1 of 8 MiB at sector 63 (byte 32256).
 * const plan = planWrap({ partitionSize: 8 << 20, align: "cylinder" });
 * await writeToFile(wrapPartition(ReadableStream.from([new Uint8Array(8 << 20)]), plan), "big.img");
 * const disk = await FileDevice.open("big.img", { readOnly: true });
 * const table = await readPartitions(disk);
 * assert.equal(table.partitions[0]?.start, 63);
 * const { offset, length } = await findPartition(disk, 1); // 32256, 4137283584 in the seed's
 * assert.deepEqual([offset, length], [32256, 8 << 20]);
 * await disk.close();
 * ```
 *
 * @module
 */

export * from "./encode_table.ts";
export * from "./errors.ts";
export * from "./fdisk_listing.ts";
export * from "./find_partition.ts";
export * from "./parse_mbr.ts";
export * from "./partition_table.ts";
export * from "./partition_types.ts";
export * from "./plan_layout.ts";
export * from "./probe_filesystem_size.ts";
export * from "./read_head.ts";
export * from "./read_partitions.ts";
export * from "./sector_patch_stream.ts";
export * from "./sector_reader.ts";
export * from "./sfdisk_json.ts";
export * from "./sfdisk_script.ts";
export * from "./stream_sector_reader.ts";
export * from "./table_stream.ts";
export * from "./validate_table.ts";
export * from "./wrap_partition.ts";
export * from "./write_table.ts";
