/**
 * DOS (MBR) partition tables without fdisk: parse and build sector 0 and the
 * EBR chain of logical partitions, validate, plan layouts (cylinder, MiB or
 * sector alignment), read and write sfdisk scripts and JSON, print fdisk's
 * listings, and patch a table into an image stream as it passes.
 *
 * @example The seed's partition inside the big file
 * ```ts
 * import { FileDevice } from "@bigfile/blockdev";
 * import { findPartition, readPartitions } from "@bigfile/mbr";
 * const disk = await FileDevice.open("big.img", { readOnly: true });
 * const table = await readPartitions(disk);
 * const { offset, length } = await findPartition(disk, 1); // 32256, 4137283584
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./partition_types.ts";
export * from "./partition_table.ts";
export * from "./parse_mbr.ts";
export * from "./sector_reader.ts";
export * from "./read_partitions.ts";
export * from "./find_partition.ts";
