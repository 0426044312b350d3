import type { BlockDevice } from "@bigfile/blockdev";
import { ExtCorruptionError } from "./errors.ts";

/** Where a partition lies in a disk image, in bytes. */
export interface PartitionWindow {
  offset: number;
  length: number;
  type: number;
}

interface Entry {
  type: number;
  start: number;
  sectors: number;
  at: number;
}

function entries(sector: Uint8Array, base: number): Entry[] {
  const v = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  return [0, 1, 2, 3].map((i) => {
    const at = 446 + i * 16;
    return {
      type: sector[at + 4] ?? 0,
      start: v.getUint32(at + 8, true),
      sectors: v.getUint32(at + 12, true),
      at: base + at,
    };
  });
}

function checkSignature(sector: Uint8Array, base: number): void {
  if (sector[510] !== 0x55 || sector[511] !== 0xaa) {
    const found = `0x${(((sector[510] ?? 0) << 8) | (sector[511] ?? 0)).toString(16).padStart(4, "0")}`;
    throw new ExtCorruptionError(
      `Cannot read the partition table: boot signature is ${found}, expected 0x55aa`,
      base + 510,
    );
  }
}

const EXTENDED = new Set([0x05, 0x0f, 0x85]);

/**
 * Finds partition `number` of a DOS (MBR) disk image: 1-4 primary, 5 and up
 * logical (the extended partition's chain, followed with a hop limit).
 */
export async function findPartition(disk: BlockDevice, number: number): Promise<PartitionWindow> {
  const sectorSize = 512;
  if (disk.size < sectorSize)
    throw new ExtCorruptionError(
      "Cannot read the partition table: the image is shorter than one sector",
      0,
    );
  const mbr = await disk.read(0, sectorSize);
  checkSignature(mbr, 0);
  const primary = entries(mbr, 0);
  const window = (entry: Entry, base: number): PartitionWindow => {
    const offset = (base + entry.start) * sectorSize;
    const length = entry.sectors * sectorSize;
    if (offset + length > disk.size) {
      throw new ExtCorruptionError(
        `Cannot open partition ${number}: it ends at byte ${offset + length}, past the image's ${disk.size} bytes`,
        entry.at,
      );
    }
    return { offset, length, type: entry.type };
  };
  if (number >= 1 && number <= 4) {
    const entry = primary[number - 1] as Entry;
    if (entry.type === 0 || entry.sectors === 0)
      throw new RangeError(`Cannot open partition ${number}: the entry is empty`);
    if (EXTENDED.has(entry.type))
      throw new RangeError(
        `Cannot open partition ${number}: it is an extended partition; logical ones are 5 and up`,
      );
    return window(entry, 0);
  }
  const extended = primary.find((e) => EXTENDED.has(e.type));
  if (number < 5 || !extended)
    throw new RangeError(`Cannot open partition ${number}: the image has no such partition`);
  let ebr = extended.start;
  const seen = new Set<number>();
  for (let n = 5; seen.size < 256; n++) {
    if (seen.has(ebr) || (ebr + 1) * sectorSize > disk.size) {
      throw new ExtCorruptionError(
        `Cannot follow the logical partitions: the chain loops or leaves the image at sector ${ebr}`,
        ebr * sectorSize,
      );
    }
    seen.add(ebr);
    const sector = await disk.read(ebr * sectorSize, sectorSize);
    checkSignature(sector, ebr * sectorSize);
    const [first, next] = entries(sector, ebr * sectorSize) as [Entry, Entry];
    if (n === number) {
      if (first.type === 0) break;
      return window(first, ebr);
    }
    if (next.type === 0 || next.start === 0) break;
    ebr = extended.start + next.start;
  }
  throw new RangeError(`Cannot open partition ${number}: the image has no such partition`);
}
