import { unpackChs } from "@bigfile/chs-geometry";
import { PartitionTableError } from "./errors.ts";
import { GPT_PROTECTIVE_TYPE } from "./partition_types.ts";

/** Offset of the disk signature (label-id) in sector 0. */
export const DISK_SIGNATURE_OFFSET = 0x1b8;
/** Offset of the first of four 16-byte partition entries. */
export const TABLE_OFFSET = 0x1be;
/** Offset of the 0x55 0xAA boot signature. */
export const BOOT_SIGNATURE_OFFSET = 0x1fe;
/** Bytes of boot code before the disk signature. */
export const BOOT_CODE_SIZE = 440;

/** One of the four 16-byte entries of an MBR or EBR, decoded but not interpreted. */
export interface MbrEntry {
  /** 0..3: the slot. */
  index: number;
  /** Byte offset of the entry within the sector. */
  offset: number;
  status: number;
  type: number;
  /** The 32-bit start LBA (relative, for EBR entries). */
  start: number;
  /** The 32-bit sector count. */
  size: number;
  chsStart: { cylinder: number; head: number; sector: number };
  chsEnd: { cylinder: number; head: number; sector: number };
}

/** Sector 0 (or an EBR) decoded: boot code, disk signature, four entries. */
export interface MbrSector {
  bootCode: Uint8Array;
  /** The disk signature at 0x1B8. */
  labelId: number;
  /** All four entries, empty ones included (type 0 and size 0). */
  entries: MbrEntry[];
  /** Whether an entry has type 0xEE: a protective MBR in front of a GPT. */
  protective: boolean;
}

/** Options for {@linkcode parseMbr}. */
export interface ParseMbrOptions {
  /** Byte offset of this sector in the image, for error offsets. @default 0 */
  baseOffset?: number;
  /** What the sector is called in messages. @default "partition table" */
  what?: string;
}

/**
 * Decodes one table sector (sector 0 or an EBR): boot code, disk signature and
 * the four entries. Throws {@linkcode PartitionTableError} (code
 * `bad-signature`, `offset` 510) unless it ends with 0x55 0xAA.
 *
 * @param sector At least 512 bytes: the sector.
 * @returns The decoded sector; interpret it with {@linkcode readPartitions}.
 *
 * @example Usage
 * ```ts
 * import { parseMbr } from "@bigfile/mbr";
 * const sector = new Uint8Array(512);
 * sector[510] = 0x55; sector[511] = 0xaa;
 * parseMbr(sector).entries.length; // 4
 * ```
 */
export function parseMbr(sector: Uint8Array, options: ParseMbrOptions = {}): MbrSector {
  const base = options.baseOffset ?? 0;
  const what = options.what ?? "partition table";
  if (sector.length < 512) {
    throw new PartitionTableError(
      "short-sector",
      `Cannot parse ${what}: the image holds ${sector.length} bytes, a sector needs 512`,
      base + sector.length,
    );
  }
  const view = new DataView(sector.buffer, sector.byteOffset, 512);
  const sig = view.getUint16(BOOT_SIGNATURE_OFFSET, false);
  if (sig !== 0x55aa) {
    throw new PartitionTableError(
      what === "partition table" ? "bad-signature" : "ebr-signature",
      `Cannot parse ${what}: boot signature is 0x${sig.toString(16).padStart(4, "0").toUpperCase()}, expected 0x55AA`,
      base + BOOT_SIGNATURE_OFFSET,
    );
  }
  const entries: MbrEntry[] = [];
  for (let index = 0; index < 4; index++) {
    const offset = TABLE_OFFSET + index * 16;
    entries.push({
      index,
      offset,
      status: view.getUint8(offset),
      type: view.getUint8(offset + 4),
      start: view.getUint32(offset + 8, true),
      size: view.getUint32(offset + 12, true),
      chsStart: unpackChs(sector, offset + 1),
      chsEnd: unpackChs(sector, offset + 5),
    });
  }
  return {
    bootCode: sector.slice(0, BOOT_CODE_SIZE),
    labelId: view.getUint32(DISK_SIGNATURE_OFFSET, true),
    entries,
    protective: entries.some((e) => e.type === GPT_PROTECTIVE_TYPE),
  };
}

/** Whether an entry is unused: no sectors (what sfdisk and Linux test). */
export function isEmptyEntry(entry: MbrEntry): boolean {
  return entry.size === 0;
}
