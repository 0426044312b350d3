import { type BlockDevice, SliceDevice } from "@bigfile/blockdev";
import { PartitionLayoutError } from "./errors.ts";
import type { Partition, PartitionRange } from "./partition_table.ts";
import { type ReadPartitionsOptions, readPartitions } from "./read_partitions.ts";
import type { TableSource } from "./sector_reader.ts";

/** A partition found in an image, with its byte range. */
export interface FoundPartition extends Partition, PartitionRange {}

/**
 * Finds partition `number` (1-4 primary, 5+ logical) of an image and gives its
 * byte offset and length: what `ext3fs --partition N` needs. Throws
 * {@linkcode PartitionLayoutError} (code `not-found`, or `gpt` for a GPT disk,
 * or `past-end` when it does not fit in the image).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileDevice, writeToFile } from "@bigfile/blockdev/node";
 * import { findPartition, planWrap, wrapPartition } from "@bigfile/mbr";
 * // A disk like the seed's, smaller: partition 1 of 8 MiB at sector 63 (byte 32256).
 * const plan = planWrap({ partitionSize: 8 << 20, align: "cylinder" });
 * await writeToFile(wrapPartition(ReadableStream.from([new Uint8Array(8 << 20)]), plan), "big.img");
 * const disk = await FileDevice.open("big.img", { readOnly: true });
 * const { offset, length } = await findPartition(disk, 1);
 * assert.deepEqual([offset, length], [32256, 8 << 20]); // 32256, 4137283584 on the seed's disk
 * await disk.close();
 * ```
 */
export async function findPartition(
  source: TableSource,
  number: number,
  options: ReadPartitionsOptions = {},
): Promise<FoundPartition> {
  const table = await readPartitions(source, options);
  if (table.gpt) {
    throw new PartitionLayoutError(
      "gpt",
      "Cannot use the partition table: this is a GPT disk (protective MBR entry 0xEE); use a GPT tool",
      0x1be,
    );
  }
  const p = table.partitions.find((q) => q.number === number);
  if (!p) {
    const have = table.partitions.map((q) => q.number).join(", ") || "none";
    throw new PartitionLayoutError(
      "not-found",
      `Cannot find partition ${number}: the table has ${have}`,
      -1,
      number,
    );
  }
  const ss = table.sectorSize;
  const found = { ...p, offset: p.start * ss, length: p.size * ss };
  if (table.diskSize !== undefined && found.offset + found.length > table.diskSize) {
    throw new PartitionLayoutError(
      "past-end",
      `Cannot use partition ${number}: it ends at byte ${found.offset + found.length}, past the end of the image (${table.diskSize} bytes)`,
      p.raw?.offset ?? -1,
      number,
    );
  }
  return found;
}

/**
 * Partition `number` of a device as a `SliceDevice`: a loop device with
 * `-o/--sizelimit`, without root.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileDevice, writeToFile } from "@bigfile/blockdev/node";
 * import { openPartition, planWrap, wrapPartition } from "@bigfile/mbr";
 * const plan = planWrap({ partitionSize: 8 << 20, align: "cylinder" });
 * await writeToFile(wrapPartition(ReadableStream.from([new Uint8Array(8 << 20)]), plan), "big.img");
 * const disk = await FileDevice.open("big.img");
 * const part1 = await openPartition(disk, 1);
 * await part1.write(1024, new Uint8Array([0x53, 0xef]));
 * assert.deepEqual([...(await disk.read(32256 + 1024, 2))], [0x53, 0xef]);
 * await disk.close();
 * ```
 */
export async function openPartition(
  device: BlockDevice,
  number: number,
  options: ReadPartitionsOptions = {},
): Promise<SliceDevice> {
  const found = await findPartition(device, number, options);
  return new SliceDevice(device, { offset: found.offset, length: found.length });
}
