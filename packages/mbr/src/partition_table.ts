import type { Chs } from "@bigfile/chs-geometry";

/** Where a partition's entry lives: the MBR's four slots, the extended container, or an EBR. */
export type PartitionKind = "primary" | "extended" | "logical";

/** The fields of a partition entry exactly as they were read from disk. */
export interface RawEntry {
  /** Byte offset of the 16-byte entry in the image. */
  offset: number;
  /** The status byte (0x80 bootable, 0x00 not; other values are invalid). */
  status: number;
  /** The CHS address of the first sector as stored. */
  chsStart: Chs;
  /** The CHS address of the last sector as stored. */
  chsEnd: Chs;
  /** The 32-bit start as stored (relative to the EBR for logical partitions). */
  relativeStart: number;
}

/** One partition of a DOS table. Sectors are absolute LBAs on the disk. */
export interface Partition {
  /** 1-4 for the MBR's slots, 5 and up for logical partitions in chain order. */
  number: number;
  /** Primary, the extended container, or logical (inside the extended one). */
  kind: PartitionKind;
  /** First sector (absolute LBA). */
  start: number;
  /** Length in sectors. */
  size: number;
  /** The type byte (0x83 Linux, 0x05 extended, ...). */
  type: number;
  /** The bootable (active) flag. */
  bootable: boolean;
  /** Logical partitions: the LBA of the EBR that describes it (computed when absent). */
  ebr?: number;
  /** Parsed tables: the entry's bytes as read. */
  raw?: RawEntry;
}

/** A DOS partition table: the disk signature and the partitions, in number order. */
export interface PartitionTable {
  /** The 32-bit disk signature at 0x1B8 (sfdisk's `label-id`). */
  labelId: number;
  /** Bytes per sector. @default 512 */
  sectorSize: number;
  /** Partitions sorted by number; empty slots are left out. */
  partitions: Partition[];
}

/** A table read from an image, with what else sector 0 holds. */
export interface DiskTable extends PartitionTable {
  /** Size of the image in bytes (undefined when read from a stream of unknown length). */
  diskSize: number | undefined;
  /** The 440 bytes of boot code before the disk signature. */
  bootCode: Uint8Array;
  /** Whether sector 0 is a protective MBR (an 0xEE entry): the disk is partitioned with GPT. */
  gpt: boolean;
}

/** A partition's place in the image in bytes: what a loop device's `-o`/`--sizelimit` take. */
export interface PartitionRange {
  /** Partition number. */
  number: number;
  /** Byte offset of the first sector in the image. */
  offset: number;
  /** Length in bytes. */
  length: number;
}

/**
 * Partition `number`'s byte range in a table, or undefined when there is no
 * such partition.
 *
 * @example The seed's partition
 * ```ts
 * import { partitionRange } from "@bigfile/mbr";
 * const table = { labelId: 0, sectorSize: 512, partitions: [
 *   { number: 1, kind: "primary" as const, start: 63, size: 8080632, type: 0x83, bootable: false },
 * ] };
 * partitionRange(table, 1); // { number: 1, offset: 32256, length: 4137283584 }
 * ```
 */
export function partitionRange(table: PartitionTable, number: number): PartitionRange | undefined {
  const p = table.partitions.find((q) => q.number === number);
  if (!p) return undefined;
  return { number, offset: p.start * table.sectorSize, length: p.size * table.sectorSize };
}
