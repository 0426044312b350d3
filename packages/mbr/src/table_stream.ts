import type { GeometryOptions } from "@bigfile/chs-geometry";
import { encodeTable } from "./encode_table.ts";
import { DISK_SIGNATURE_OFFSET } from "./parse_mbr.ts";
import type { PartitionTable } from "./partition_table.ts";
import { type BytePatch, SectorPatchStream } from "./sector_patch_stream.ts";

/** Options for {@linkcode TableWriterStream}. */
export interface TableWriterStreamOptions {
  /** Geometry for the CHS fields. @default 255/63 */
  geometry?: GeometryOptions;
  /** Keep the boot code (bytes 0..439) of the passing sector 0. @default true */
  keepBootCode?: boolean;
}

/**
 * Writes a partition table into an image stream as it passes: sector 0 gets
 * the disk signature, the four entries and 0x55AA (its boot code is kept
 * unless `keepBootCode: false`), each logical partition's EBR sector is
 * written where the table puts it, and every other byte passes through
 * untouched, at pipe speed.
 *
 * @example Usage
 * ```ts
 * import { zeroStream } from "@bigfile/blockdev";
 * import { TableWriterStream } from "@bigfile/mbr";
 * const table = { labelId: 0x1234, sectorSize: 512, partitions: [
 *   { number: 1, kind: "primary" as const, start: 63, size: 8080632, type: 0x83, bootable: true },
 * ] };
 * const disk = zeroStream(4141875200).pipeThrough(new TableWriterStream(table));
 * ```
 */
export class TableWriterStream extends SectorPatchStream {
  constructor(table: PartitionTable, options: TableWriterStreamOptions = {}) {
    const sectors = encodeTable(table, options.geometry ? { geometry: options.geometry } : {});
    const patches: BytePatch[] = sectors.map((s) => ({
      offset: s.lba * table.sectorSize,
      bytes: s.bytes,
    }));
    if (options.keepBootCode !== false) {
      const first = patches[0] as BytePatch;
      patches[0] = {
        offset: DISK_SIGNATURE_OFFSET,
        bytes: first.bytes.subarray(DISK_SIGNATURE_OFFSET, 512),
      };
    }
    super(patches);
  }
}
