import { isExtendedType } from "@bigfile/mbr";
import { BIOS_BOOT_GUID, readGpt } from "./_gpt.ts";
import {
  checkBootFlags,
  logicalPartitions,
  parseTableSector,
  usedEntries,
  validBootFlag,
} from "./_partitions.ts";
import { type ByteReader, u16 } from "./_reader.ts";
import { GrubInstallError } from "./grub_install_error.ts";

/** Where GRUB may embed core.img in a disk image. */
export interface EmbeddingArea {
  /** `msdos`: the gap between the MBR and the first partition; `gpt`: the BIOS boot partition. */
  scheme: "msdos" | "gpt";
  /** First sector of the area. */
  start: number;
  /** First sector after the area. */
  end: number;
  /** GPT only: the BIOS boot partition's number. */
  biosBootPartition?: number;
  /** msdos only: the sector of the first partition (logical ones included). */
  firstPartitionStart?: number;
  /**
   * GRUB's name of the partition most likely to hold /boot (`msdos1`, `gpt2`):
   * the first primary MBR partition that is not an extended one, or the first
   * GPT partition that is not the BIOS boot partition.
   */
  rootPartition?: string;
}

/** A sector of the MBR gap that other software claims, which GRUB avoids. */
export interface ForeignSector {
  sector: number;
  /** The program or controller that stores data there, in GRUB's words. */
  owner: string;
  kind: "software" | "raid";
}

/**
 * Sector signatures of software that keeps data in the MBR gap; grub-bios-setup
 * skips such sectors (each confirmed here against Debian's grub-bios-setup 2.06).
 */
const FOREIGN_SIGNATURES: { owner: string; kind: "software" | "raid"; bytes: number[] }[] = [
  { owner: "ZISD", kind: "software", bytes: [0x5a, 0x49, 0x53, 0x44] },
  { owner: "FlexNet", kind: "software", bytes: [0xd4, 0x41, 0xa0, 0xf5, 0x03, 0x00, 0x03, 0x00] },
  { owner: "FlexNet", kind: "software", bytes: [0xd8, 0x41, 0xa0, 0xf5, 0x02, 0x00, 0x02, 0x00] },
  {
    owner: "HP Backup and Recovery Manager (?)",
    kind: "software",
    bytes: [
      0x70, 0x8a, 0x5d, 0x46, 0x35, 0xc5, 0x1b, 0x93, 0xae, 0x3d, 0x86, 0xfd, 0xb1, 0x55, 0x3e,
      0xe0,
    ],
  },
  { owner: "HighPoint RAID controller", kind: "raid", bytes: [0x79, 0x63, 0x67, 0x6c] },
  {
    owner: "Acer registration utility (?)",
    kind: "software",
    bytes: [...new TextEncoder().encode("GREGRegDone.Tag"), 0x00],
  },
];

/** The owner of a gap sector whose first bytes carry a known signature, if any. */
export function foreignSectorOwner(
  sector: Uint8Array,
): { owner: string; kind: "software" | "raid" } | undefined {
  for (const sig of FOREIGN_SIGNATURES) {
    if (sig.bytes.every((b, i) => sector[i] === b)) return { owner: sig.owner, kind: sig.kind };
  }
  return undefined;
}

/** Options for {@linkcode findEmbeddingArea}. */
export interface FindEmbeddingAreaOptions {
  /** Walk the logical partitions' EBRs to check their signatures and boot flags. @default true */
  checkLogical?: boolean;
}

/**
 * Finds the embedding area the way grub-bios-setup does: for an MBR, the
 * sectors between sector 0 and the lowest partition start (extended and
 * logical partitions included); for GPT, the BIOS boot partition. Refuses
 * (with GRUB's wording) disks without a table, with bad boot flags, without
 * a post-MBR gap, a GPT without BIOS boot partition, and whole-disk filesystems.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryDevice } from "@bigfile/blockdev";
 * import { planLayout, writeTable } from "@bigfile/mbr";
 * import { findEmbeddingArea } from "@bigfile/grub-mbr";
 * const disk = new MemoryDevice(new Uint8Array(4 << 20));
 * await writeTable(disk, planLayout([{ type: 0x83 }], { diskSize: 4 << 20, align: "mib" }));
 * const area = await findEmbeddingArea(disk);
 * assert.deepEqual([area.start, area.end], [1, 2048]); // the MBR gap before sector 2048
 * ```
 */
export async function findEmbeddingArea(
  reader: ByteReader,
  options: FindEmbeddingAreaOptions = {},
): Promise<EmbeddingArea> {
  const sector0 = await reader.read(0, 512);
  const mbr = parseTableSector(sector0);
  const primaries = mbr ? usedEntries(mbr) : [];
  const badFlags = mbr?.entries.some((e) => !validBootFlag(e.status)) ?? false;
  if (!mbr || badFlags || primaries.length === 0) {
    const fs = await wholeDiskFilesystem(reader, sector0);
    if (fs) {
      throw new GrubInstallError(
        `File system \`${fs}' doesn't support embedding: the image is a whole-disk filesystem without a partition table; Embedding is not possible, and grub-mbr will not proceed with blocklists (partition the disk and put the filesystem in a partition that starts at sector 63 or later)`,
        0,
      );
    }
  }
  if (!mbr) {
    const found = `0x${hex2(sector0[510] as number)}${hex2(sector0[511] as number)}`;
    throw new GrubInstallError(
      `no signature: sector 0 ends with ${found}, not 0x55AA, so the image has no partition table (grub-bios-setup: "unable to identify a filesystem in hd0; safety check can't be performed"); create one first (mbr wrap, sfdisk)`,
      510,
    );
  }
  checkBootFlags(mbr, 0, "the partition table");
  if (mbr.protective) {
    const gpt = await readGpt(reader);
    const bios = gpt.entries.find((e) => e.typeGuid === BIOS_BOOT_GUID);
    if (!bios) {
      throw new GrubInstallError(
        "this GPT partition label contains no BIOS Boot Partition; embedding won't be possible (add one of 1 MiB, type 21686148-6449-6E6F-744E-656564454649, e.g. sfdisk type=21686148-6449-6E6F-744E-656564454649)",
        512,
      );
    }
    const root = gpt.entries.find((e) => e !== bios);
    return {
      scheme: "gpt",
      start: bios.firstLba,
      end: bios.lastLba + 1,
      biosBootPartition: bios.number,
      ...(root ? { rootPartition: `gpt${root.number}` } : {}),
    };
  }
  if (primaries.length === 0) {
    throw new GrubInstallError(
      'the partition table holds no partitions, so nothing marks where the embedding area ends (grub-bios-setup: "unable to identify a filesystem in hd0; safety check can\'t be performed")',
      0x1be,
    );
  }
  let first = Math.min(...primaries.map((e) => e.start));
  const firstPrimary = primaries.find((e) => !isExtendedType(e.type));
  let root = firstPrimary && firstPrimary.index + 1;
  if ((options.checkLogical ?? true) && primaries.some((e) => isExtendedType(e.type))) {
    for (const logical of await logicalPartitions(reader)) {
      first = Math.min(first, logical.start);
      root ??= logical.number;
    }
  }
  if (first <= 1) {
    throw new GrubInstallError(
      `this msdos-style partition label has no post-MBR gap; embedding won't be possible (the first partition starts at sector ${first}; move it to sector 63 or, better, 2048)`,
      0x1be,
    );
  }
  return {
    scheme: "msdos",
    start: 1,
    end: first,
    firstPartitionStart: first,
    ...(root !== undefined ? { rootPartition: `msdos${root}` } : {}),
  };
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, "0").toUpperCase();
}

/** `ext2` etc. when the image starts with a filesystem rather than a partition table. */
async function wholeDiskFilesystem(
  reader: ByteReader,
  sector0: Uint8Array,
): Promise<string | undefined> {
  const text = (a: number, b: number) => new TextDecoder("latin1").decode(sector0.subarray(a, b));
  if (text(0x52, 0x57) === "FAT32" || text(0x36, 0x39) === "FAT") return "fat";
  if (text(3, 7) === "NTFS") return "ntfs";
  if (text(3, 8) === "EXFAT") return "exfat";
  if (reader.size !== undefined && reader.size < 2048) return undefined;
  try {
    const sb = await reader.read(1024, 1024);
    if (u16(sb, 56) === 0xef53) return "ext2";
  } catch {
    // A tiny image: no superblock there.
  }
  return undefined;
}

/** The sectors chosen for core.img, and the gap sectors skipped on the way. */
export interface EmbeddingSectors {
  sectors: number[];
  skipped: ForeignSector[];
}

/**
 * Picks at least `needed` and at most `max` sectors of `area` for core.img, in
 * order, skipping (in an MBR gap) sectors that carry another program's
 * signature. Throws GRUB's refusal when fewer than `needed` are available.
 */
export async function chooseEmbeddingSectors(
  reader: ByteReader,
  area: EmbeddingArea,
  needed: number,
  max: number,
): Promise<EmbeddingSectors> {
  const sectors: number[] = [];
  const skipped: ForeignSector[] = [];
  const size = area.end - area.start;
  if (area.scheme === "gpt") {
    if (size < needed) {
      throw new GrubInstallError(
        `your BIOS Boot Partition is too small; embedding won't be possible (core.img needs ${needed} sectors; partition ${area.biosBootPartition} holds ${size}; 1 MiB is the usual size)`,
        area.start * 512,
      );
    }
    for (let s = area.start; s < area.end && sectors.length < max; s++) sectors.push(s);
    return { sectors, skipped };
  }
  const chunk = 256;
  for (let s = area.start; s < area.end && sectors.length < max; s += chunk) {
    const count = Math.min(chunk, area.end - s);
    const bytes = await reader.read(s * 512, count * 512);
    for (let k = 0; k < count && sectors.length < max; k++) {
      const owner = foreignSectorOwner(bytes.subarray(k * 512, k * 512 + 512));
      if (owner) skipped.push({ sector: s + k, ...owner });
      else sectors.push(s + k);
    }
  }
  if (sectors.length < needed) {
    throw new GrubInstallError(
      `your embedding area is unusually small.  core.img won't fit in it. (core.img needs ${needed} sectors; sectors ${area.start}-${area.end - 1} before the first partition at sector ${area.end} offer ${sectors.length}${skipped.length ? `, ${skipped.length} more being used by other software` : ""}; start the first partition at sector 2048)`,
      area.start * 512,
    );
  }
  return { sectors, skipped };
}
