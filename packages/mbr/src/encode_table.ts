import { type GeometryOptions, lbaToMbrChsBytes } from "@bigfile/chs-geometry";
import { PartitionLayoutError } from "./errors.ts";
import {
  BOOT_CODE_SIZE,
  BOOT_SIGNATURE_OFFSET,
  DISK_SIGNATURE_OFFSET,
  TABLE_OFFSET,
} from "./parse_mbr.ts";
import type { Partition, PartitionTable } from "./partition_table.ts";

/** One sector of a table, to be written at `lba`. */
export interface TableSector {
  lba: number;
  bytes: Uint8Array;
}

/** Options for {@linkcode encodeTable}. */
export interface EncodeTableOptions {
  /** Geometry for the CHS fields. @default 255 heads, 63 sectors per track */
  geometry?: GeometryOptions;
  /** Boot code for bytes 0..439 of sector 0 (shorter is zero-padded). @default zeros */
  bootCode?: Uint8Array;
  /** Gap between an EBR and its logical partition, for EBRs not given. @default 2048 */
  ebrGap?: number;
}

/**
 * Places the EBR of every logical partition that has none: the first at the
 * start of the extended partition, the others `ebrGap` sectors before their
 * partition but not before the end of the previous one (as sfdisk does).
 * Returns a copy of the table.
 */
export function resolveEbrs(table: PartitionTable, ebrGap = 2048): PartitionTable {
  const ext = table.partitions.find((p) => p.kind === "extended");
  const logicals = table.partitions
    .filter((p) => p.kind === "logical")
    .sort((a, b) => a.number - b.number);
  const partitions = table.partitions.map((p) => ({ ...p }));
  if (!ext) return { ...table, partitions };
  let previousEnd = -1;
  logicals.forEach((l, i) => {
    const copy = partitions.find((p) => p.number === l.number) as Partition;
    if (copy.ebr === undefined) {
      copy.ebr = i === 0 ? ext.start : Math.max(previousEnd + 1, l.start - ebrGap);
    }
    previousEnd = Math.max(previousEnd, l.start + l.size - 1);
  });
  return { ...table, partitions };
}

function writeEntry(
  sector: Uint8Array,
  slot: number,
  p: { bootable: boolean; type: number; first: number; last: number; stored: number; size: number },
  geometry: GeometryOptions,
): void {
  const at = TABLE_OFFSET + slot * 16;
  const view = new DataView(sector.buffer, sector.byteOffset, sector.length);
  sector[at] = p.bootable ? 0x80 : 0;
  sector.set(lbaToMbrChsBytes(p.first, geometry), at + 1);
  sector[at + 4] = p.type;
  sector.set(lbaToMbrChsBytes(p.last, geometry), at + 5);
  view.setUint32(at + 8, p.stored, true);
  view.setUint32(at + 12, p.size, true);
}

function check32(p: Partition, what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new PartitionLayoutError(
      "bad-range",
      `Cannot encode partition ${p.number}: its ${what} ${value} does not fit the 32 bits of an MBR entry`,
      -1,
      p.number,
    );
  }
}

/**
 * Encodes a table as the sectors to write: sector 0 (boot code, disk
 * signature, four entries, 0x55AA) and one EBR per logical partition, each
 * linking to the next with a type-05 entry, as sfdisk writes them. CHS fields
 * come from the geometry (clamped to 1023/254/63). Does not validate: call
 * {@linkcode validateTable} first.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeTable } from "@bigfile/mbr";
 * const [sector0] = encodeTable({ labelId: 0x12345678, sectorSize: 512, partitions: [
 *   { number: 1, kind: "primary", start: 63, size: 8080632, type: 0x83, bootable: true },
 * ] });
 * assert.equal(sector0?.lba, 0);
 * assert.deepEqual([sector0?.bytes[510], sector0?.bytes[511]], [0x55, 0xaa]);
 * ```
 */
export function encodeTable(
  table: PartitionTable,
  options: EncodeTableOptions = {},
): TableSector[] {
  const geometry = options.geometry ?? {};
  const ss = table.sectorSize;
  const sector0 = new Uint8Array(ss);
  if (options.bootCode) sector0.set(options.bootCode.subarray(0, BOOT_CODE_SIZE));
  new DataView(sector0.buffer).setUint32(DISK_SIGNATURE_OFFSET, table.labelId >>> 0, true);
  sector0[BOOT_SIGNATURE_OFFSET] = 0x55;
  sector0[BOOT_SIGNATURE_OFFSET + 1] = 0xaa;
  const out: TableSector[] = [{ lba: 0, bytes: sector0 }];
  const resolved = resolveEbrs(table, options.ebrGap);
  let ext: Partition | undefined;
  for (const p of resolved.partitions) {
    if (p.kind === "logical") continue;
    if (p.number < 1 || p.number > 4) {
      throw new PartitionLayoutError(
        "bad-number",
        `Cannot encode partition ${p.number}: primary and extended partitions are numbered 1 to 4`,
        -1,
        p.number,
      );
    }
    check32(p, "start", p.start);
    check32(p, "size", p.size);
    writeEntry(
      sector0,
      p.number - 1,
      { ...p, first: p.start, last: p.start + p.size - 1, stored: p.start },
      geometry,
    );
    if (p.kind === "extended") ext ??= p;
  }
  const logicals = resolved.partitions
    .filter((p) => p.kind === "logical")
    .sort((a, b) => a.number - b.number);
  if (logicals.length === 0) return out;
  if (!ext) {
    throw new PartitionLayoutError(
      "logical-outside",
      "Cannot encode logical partitions without an extended partition",
      -1,
      logicals[0]?.number,
    );
  }
  logicals.forEach((l, i) => {
    const ebr = l.ebr as number;
    const bytes = new Uint8Array(ss);
    check32(l, "start relative to its EBR", l.start - ebr);
    check32(l, "size", l.size);
    writeEntry(
      bytes,
      0,
      { ...l, first: l.start, last: l.start + l.size - 1, stored: l.start - ebr },
      geometry,
    );
    const next = logicals[i + 1];
    if (next) {
      const nextEbr = next.ebr as number;
      const end = next.start + next.size - 1;
      writeEntry(
        bytes,
        1,
        {
          bootable: false,
          type: 0x05,
          first: nextEbr,
          last: end,
          stored: nextEbr - (ext as Partition).start,
          size: end - nextEbr + 1,
        },
        geometry,
      );
    }
    bytes[BOOT_SIGNATURE_OFFSET] = 0x55;
    bytes[BOOT_SIGNATURE_OFFSET + 1] = 0xaa;
    out.push({ lba: ebr, bytes });
  });
  return out;
}

/**
 * Sector 0 with a new table but the old boot code (bytes 0..439) kept: the
 * disk signature, entries and 0x55AA come from `encoded`, the rest from `old`.
 */
export function mergeMbrSector(old: Uint8Array, encoded: Uint8Array): Uint8Array {
  const out = encoded.slice();
  out.set(old.subarray(0, BOOT_CODE_SIZE));
  return out;
}
