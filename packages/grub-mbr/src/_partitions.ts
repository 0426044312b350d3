// What GRUB checks of a DOS partition table, on top of @bigfile/mbr's parser:
// boot flags of 0x00/0x80 only (all four entries of sector 0 and of every EBR,
// links included), EBR signatures, and type 0 as "empty" (GRUB's test, where
// sfdisk tests the size).

import {
  type MbrEntry,
  type MbrSector,
  type Partition,
  PartitionTableError,
  parseMbr,
  readPartitions,
  type SectorReader,
} from "@bigfile/mbr";
import { type ByteReader, hex } from "./_reader.ts";
import { GrubInstallError } from "./grub_install_error.ts";

/** Sector 0 or an EBR decoded, or undefined when it does not end with 0x55AA. */
export function parseTableSector(sector0: Uint8Array): MbrSector | undefined {
  try {
    return parseMbr(sector0);
  } catch (error) {
    if (error instanceof PartitionTableError && error.code === "bad-signature") return undefined;
    throw error;
  }
}

/** The entries GRUB considers used: a non-zero type byte. */
export function usedEntries(sector: MbrSector): MbrEntry[] {
  return sector.entries.filter((e) => e.type !== 0);
}

/** Whether a boot flag is one GRUB accepts: 0x00 or 0x80. */
export function validBootFlag(status: number): boolean {
  return (status & 0x7f) === 0;
}

/**
 * Throws GRUB's "bad boot flag" refusal for an entry whose flag is neither
 * 0x00 nor 0x80. Like grub-bios-setup, checks all four entries, empty ones
 * too. `base` is the byte offset of the sector in the image.
 */
export function checkBootFlags(sector: MbrSector, base: number, where: string): void {
  for (const e of sector.entries) {
    if (!validBootFlag(e.status)) {
      throw new GrubInstallError(
        `bad boot flag: ${where} entry ${e.index + 1} has boot flag ${hex(e.status)} (only 0x00 and 0x80 are valid); GRUB does not accept this partition table ("unable to identify a filesystem in hd0; safety check can't be performed")`,
        base + e.offset,
      );
    }
  }
}

/** A sector reader over `reader` that keeps every EBR it reads, in chain order. */
function recordingReader(reader: ByteReader, ebrs: Map<number, Uint8Array>): SectorReader {
  return {
    size: reader.size,
    sectorSize: 512,
    async readSector(lba) {
      const sector = await reader.read(lba * 512, 512);
      if (lba !== 0) ebrs.set(lba, sector);
      return sector;
    },
  };
}

/** GRUB's boot flag check on the EBRs read so far (those with a signature). */
function checkEbrBootFlags(ebrs: Map<number, Uint8Array>): void {
  for (const [lba, bytes] of ebrs) {
    const sector = parseTableSector(bytes);
    if (sector) checkBootFlags(sector, lba * 512, `the extended boot record at sector ${lba},`);
  }
}

/**
 * The logical partitions of every extended partition, read with
 * `@bigfile/mbr` (loops, links outside the extended partition and runaway
 * chains refused there), each EBR also checked for GRUB's boot flags. A bad
 * EBR signature gets GRUB's wording.
 */
export async function logicalPartitions(reader: ByteReader): Promise<Partition[]> {
  const ebrs = new Map<number, Uint8Array>();
  try {
    const table = await readPartitions(recordingReader(reader, ebrs));
    checkEbrBootFlags(ebrs);
    return table.partitions.filter((p) => p.kind === "logical" && p.type !== 0);
  } catch (error) {
    // The EBRs before the one that failed were checked first, as GRUB walks them.
    checkEbrBootFlags(ebrs);
    if (!(error instanceof PartitionTableError)) throw error;
    if (error.code === "ebr-signature") {
      const lba = Math.floor(error.offset / 512);
      throw new GrubInstallError(
        `no signature: the extended boot record at sector ${lba} does not end with 0x55AA; GRUB cannot read this partition table`,
        error.offset,
      );
    }
    if (error.code === "ebr-loop") {
      throw new GrubInstallError(
        `${error.message} (grub-bios-setup: "loop detected")`,
        error.offset,
      );
    }
    throw new GrubInstallError(error.message, error.offset);
  }
}
