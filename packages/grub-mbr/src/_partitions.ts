// A private MBR reader: what grub-mbr needs of the table (primary entries,
// the logical chain, boot flags). To be replaced by @bigfile/mbr's parser.

import { type ByteReader, hex, u32 } from "./_reader.ts";
import { GrubInstallError } from "./grub_install_error.ts";

/** One non-empty table entry, with its absolute start. */
export interface MbrEntry {
  /** 1-4 primary, 5+ logical. */
  number: number;
  type: number;
  bootFlag: number;
  start: number;
  sectors: number;
  /** Offset of the 16-byte entry in the image. */
  entryOffset: number;
}

const EXTENDED = new Set([0x05, 0x0f, 0x85]);

/** Whether `type` is an extended-partition container. */
export function isExtended(type: number): boolean {
  return EXTENDED.has(type);
}

/** The four primary entries of a sector 0 that ends in 0x55AA (empty ones skipped). */
export function primaryEntries(sector0: Uint8Array): MbrEntry[] {
  const out: MbrEntry[] = [];
  for (let i = 0; i < 4; i++) {
    const at = 0x1be + 16 * i;
    const type = sector0[at + 4] as number;
    if (type === 0) continue;
    out.push({
      number: i + 1,
      type,
      bootFlag: sector0[at] as number,
      start: u32(sector0, at + 8),
      sectors: u32(sector0, at + 12),
      entryOffset: at,
    });
  }
  return out;
}

/** Throws GRUB's "bad boot flag" refusal for an entry whose flag is neither 0x00 nor 0x80. */
export function checkBootFlags(entries: MbrEntry[], where: string): void {
  for (const e of entries) {
    if ((e.bootFlag & 0x7f) !== 0) {
      throw new GrubInstallError(
        `bad boot flag: ${where} entry ${((e.entryOffset % 512) - 0x1be) / 16 + 1} has boot flag ${hex(e.bootFlag)} (only 0x00 and 0x80 are valid); GRUB does not accept this partition table ("unable to identify a filesystem in hd0; safety check can't be performed")`,
        e.entryOffset,
      );
    }
  }
}

/**
 * Walks the logical partitions of the extended partition `ext` (each EBR checked
 * for 0x55AA and boot flags, as GRUB does), returning them with absolute starts.
 */
export async function logicalEntries(reader: ByteReader, ext: MbrEntry): Promise<MbrEntry[]> {
  const out: MbrEntry[] = [];
  const seen = new Set<number>();
  let ebr = ext.start;
  let number = 5;
  while (true) {
    if (seen.has(ebr) || seen.size > 1024) {
      throw new GrubInstallError(
        `Cannot read the logical partitions: the EBR chain loops at sector ${ebr}`,
        ebr * 512,
      );
    }
    seen.add(ebr);
    const sector = await reader.read(ebr * 512, 512);
    if (sector[510] !== 0x55 || sector[511] !== 0xaa) {
      throw new GrubInstallError(
        `no signature: the extended boot record at sector ${ebr} does not end with 0x55AA; GRUB cannot read this partition table`,
        ebr * 512 + 510,
      );
    }
    const entries = primaryEntries(sector).map((e) => ({
      ...e,
      entryOffset: ebr * 512 + e.entryOffset,
    }));
    checkBootFlags(entries, `the extended boot record at sector ${ebr},`);
    let next: number | undefined;
    for (const e of entries) {
      if (isExtended(e.type)) {
        if (next === undefined) next = ext.start + e.start;
      } else if (e.sectors > 0) {
        out.push({ ...e, number: number++, start: ebr + e.start });
      }
    }
    if (next === undefined) return out;
    ebr = next;
  }
}
