import type { BlockDevice } from "@bigfile/blockdev";
import type { GeometryOptions } from "@bigfile/chs-geometry";
import { encodeTable, mergeMbrSector } from "./encode_table.ts";
import { PartitionTableError } from "./errors.ts";
import { parseMbr } from "./parse_mbr.ts";
import type { PartitionTable } from "./partition_table.ts";
import { assertValidTable, type TableWarning } from "./validate_table.ts";

/** Options for {@linkcode writeTable}. */
export interface WriteTableOptions {
  /** Geometry for the CHS fields. @default 255/63 */
  geometry?: GeometryOptions;
  /** Keep the boot code (bytes 0..439) already in sector 0. @default true */
  keepBootCode?: boolean;
}

/**
 * Writes a table into a device in place, after validating it against the
 * device's size (an invalid table throws {@linkcode PartitionLayoutError} and
 * nothing is written): sector 0's entries, disk signature and 0x55AA (boot code
 * kept), then each EBR. Returns the validation warnings.
 *
 * @example Usage
 * ```ts
 * import { MemoryDevice } from "@bigfile/blockdev";
 * import { writeTable } from "@bigfile/mbr";
 * const disk = new MemoryDevice(new Uint8Array(1 << 20));
 * await writeTable(disk, { labelId: 1, sectorSize: 512, partitions: [
 *   { number: 1, kind: "primary", start: 63, size: 1000, type: 0x83, bootable: false },
 * ] });
 * ```
 */
export async function writeTable(
  device: BlockDevice,
  table: PartitionTable,
  options: WriteTableOptions = {},
): Promise<TableWarning[]> {
  const warnings = assertValidTable(table, {
    diskSize: device.size,
    checkChs: false,
    ...(options.geometry && { geometry: options.geometry }),
  });
  const sectors = encodeTable(table, options.geometry ? { geometry: options.geometry } : {});
  const ss = table.sectorSize;
  if (device.size < ss)
    throw new PartitionTableError(
      "short-sector",
      `Cannot write a partition table: the device holds ${device.size} bytes`,
      device.size,
    );
  const first = sectors[0] as { lba: number; bytes: Uint8Array };
  if (options.keepBootCode !== false)
    first.bytes = mergeMbrSector(await device.read(0, ss), first.bytes);
  for (const s of sectors) await device.write(s.lba * ss, s.bytes);
  await device.flush();
  return warnings;
}

/** The disk signature already in sector 0 of a device, or undefined without a valid MBR. */
export async function readLabelId(device: BlockDevice): Promise<number | undefined> {
  if (device.size < 512) return undefined;
  try {
    return parseMbr(await device.read(0, 512)).labelId;
  } catch {
    return undefined;
  }
}
