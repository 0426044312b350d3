import { type GeometryOptions, lbaToMbrChs } from "@bigfile/chs-geometry";
import { resolveEbrs } from "./encode_table.ts";
import { PartitionLayoutError } from "./errors.ts";
import type { Partition, PartitionTable } from "./partition_table.ts";
import { GPT_PROTECTIVE_TYPE } from "./partition_types.ts";

/** Something odd but usable in a table. */
export interface TableWarning {
  code: "bootable-count" | "chs-mismatch" | "bad-status";
  message: string;
  /** Byte offset of the entry concerned, or -1. */
  offset: number;
  partition?: number;
}

/** What {@linkcode validateTable} found. */
export interface TableReport {
  /** Problems that make the table unusable (refuse to write it). */
  errors: PartitionLayoutError[];
  /** Oddities worth a message. */
  warnings: TableWarning[];
}

/** Options for {@linkcode validateTable}. */
export interface ValidateTableOptions {
  /** Size of the disk in bytes; without it, the end is not checked. */
  diskSize?: number;
  /** Geometry the CHS fields are compared with. @default 255/63 */
  geometry?: GeometryOptions;
  /** Compare stored CHS fields with the LBAs (tables read from disk). @default true */
  checkChs?: boolean;
}

const end = (p: { start: number; size: number }) => p.start + p.size - 1;
const offsetOf = (p: Partition) => p.raw?.offset ?? -1;

/**
 * Checks a table: overlapping partitions (EBRs included), partitions past the
 * disk's end or outside 32 bits, logical partitions outside their extended
 * one, more than one extended partition, a protective 0xEE entry (a GPT disk);
 * warns about more than one bootable partition, invalid status bytes and CHS
 * fields that do not match the LBAs.
 *
 * @example Usage
 * ```ts
 * import { validateTable } from "@bigfile/mbr";
 * const report = validateTable({ labelId: 0, sectorSize: 512, partitions: [
 *   { number: 1, kind: "primary", start: 63, size: 100, type: 0x83, bootable: false },
 *   { number: 2, kind: "primary", start: 100, size: 100, type: 0x83, bootable: false },
 * ] });
 * report.errors[0]?.code; // "overlap"
 * ```
 */
export function validateTable(
  table: PartitionTable,
  options: ValidateTableOptions = {},
): TableReport {
  const errors: PartitionLayoutError[] = [];
  const warnings: TableWarning[] = [];
  const ss = table.sectorSize;
  const diskSectors =
    options.diskSize === undefined ? undefined : Math.floor(options.diskSize / ss);
  const resolved = resolveEbrs(table);
  const parts = resolved.partitions;
  const err = (code: PartitionLayoutError["code"], message: string, p?: Partition) =>
    errors.push(new PartitionLayoutError(code, message, p ? offsetOf(p) : -1, p?.number));

  for (const p of parts) {
    if (p.type === GPT_PROTECTIVE_TYPE && p.kind !== "logical") {
      err(
        "gpt",
        `Cannot use the partition table: this is a GPT disk (protective MBR entry 0xEE in slot ${p.number}); use a GPT tool such as sgdisk`,
        p,
      );
    }
    if (p.kind === "logical" ? p.number < 5 : p.number < 1 || p.number > 4) {
      err(
        "bad-number",
        `Partition ${p.number} cannot be ${p.kind === "logical" ? "logical (logical partitions are numbered from 5)" : `${p.kind} (slots are 1 to 4)`}`,
        p,
      );
    }
    if (
      !Number.isSafeInteger(p.start) ||
      !Number.isSafeInteger(p.size) ||
      p.size < 1 ||
      p.start < 1 ||
      p.start > 0xffffffff ||
      p.size > 0xffffffff
    ) {
      err(
        "bad-range",
        `Partition ${p.number} has an invalid range: start ${p.start}, size ${p.size} (start from 1, size from 1, both under 2^32)`,
        p,
      );
      continue;
    }
    if (diskSectors !== undefined && end(p) >= diskSectors) {
      err(
        "past-end",
        `Partition ${p.number} ends at sector ${end(p)}, past the end of the disk (last sector ${diskSectors - 1})`,
        p,
      );
    }
    if (p.raw && p.raw.status !== 0 && p.raw.status !== 0x80) {
      warnings.push({
        code: "bad-status",
        message: `Partition ${p.number} has an invalid status byte 0x${p.raw.status.toString(16).padStart(2, "0")} (expected 0x00 or 0x80)`,
        offset: p.raw.offset,
        partition: p.number,
      });
    }
    if (p.raw && options.checkChs !== false) {
      const g = options.geometry ?? {};
      const want = [lbaToMbrChs(p.start, g), lbaToMbrChs(end(p), g)];
      const have = [p.raw.chsStart, p.raw.chsEnd];
      const same = want.every((w, i) => {
        const h = have[i] as typeof w;
        return w.cylinder === h.cylinder && w.head === h.head && w.sector === h.sector;
      });
      if (!same) {
        const f = (c: { cylinder: number; head: number; sector: number }) =>
          `${c.cylinder}/${c.head}/${c.sector}`;
        warnings.push({
          code: "chs-mismatch",
          message: `Partition ${p.number}: CHS ${f(have[0] as never)}-${f(have[1] as never)} does not match LBA ${p.start}-${end(p)} (expected ${f(want[0] as never)}-${f(want[1] as never)})`,
          offset: p.raw.offset,
          partition: p.number,
        });
      }
    }
  }
  const seen = new Set<number>();
  for (const p of parts) {
    if (seen.has(p.number)) err("bad-number", `Partition number ${p.number} is used twice`, p);
    seen.add(p.number);
  }
  const extended = parts.filter((p) => p.kind === "extended");
  if (extended.length > 1)
    err(
      "extended-count",
      `The table has ${extended.length} extended partitions (${extended.map((p) => p.number).join(", ")}); at most one is allowed`,
      extended[1],
    );
  const valid = (p: Partition) => p.size >= 1 && p.start >= 1;
  // Primary-level overlaps (the extended one counts as a whole).
  const top = parts
    .filter((p) => p.kind !== "logical" && valid(p))
    .sort((a, b) => a.start - b.start);
  for (let i = 1; i < top.length; i++) {
    const a = top[i - 1] as Partition;
    const b = top[i] as Partition;
    if (b.start <= end(a))
      err(
        "overlap",
        `Partitions ${a.number} (${a.start}-${end(a)}) and ${b.number} (${b.start}-${end(b)}) overlap`,
        b,
      );
  }
  const ext = extended[0];
  const logicals = parts.filter((p) => p.kind === "logical" && valid(p));
  if (logicals.length > 0 && !ext) {
    err(
      "logical-outside",
      `Logical partition ${logicals[0]?.number} has no extended partition to live in`,
      logicals[0],
    );
  }
  if (ext) {
    const ranges: Array<{ start: number; size: number; what: string; p: Partition }> = [];
    for (const l of logicals) {
      const ebr = l.ebr as number;
      if (l.start < ext.start || end(l) > end(ext)) {
        err(
          "logical-outside",
          `Logical partition ${l.number} (${l.start}-${end(l)}) lies outside extended partition ${ext.number} (${ext.start}-${end(ext)})`,
          l,
        );
      }
      if (ebr < ext.start || ebr > end(ext) || ebr >= l.start) {
        err(
          "no-ebr-room",
          `Logical partition ${l.number} needs its EBR in extended partition ${ext.number} before sector ${l.start}, but it is at sector ${ebr}`,
          l,
        );
      }
      ranges.push({ start: l.start, size: l.size, what: `logical partition ${l.number}`, p: l });
      ranges.push({
        start: ebr,
        size: 1,
        what: `the EBR of partition ${l.number} (sector ${ebr})`,
        p: l,
      });
    }
    ranges.sort((a, b) => a.start - b.start);
    for (let i = 1; i < ranges.length; i++) {
      const a = ranges[i - 1] as (typeof ranges)[number];
      const b = ranges[i] as (typeof ranges)[number];
      if (b.start <= end(a))
        err(
          "overlap",
          `${cap(a.what)} (${a.start}-${end(a)}) and ${b.what} (${b.start}-${end(b)}) overlap`,
          b.p,
        );
    }
  }
  const bootable = parts.filter((p) => p.bootable);
  if (bootable.length > 1) {
    warnings.push({
      code: "bootable-count",
      message: `${bootable.length} partitions are marked bootable (${bootable.map((p) => p.number).join(", ")}); a BIOS boots the first one`,
      offset: offsetOf(bootable[1] as Partition),
      partition: bootable[1]?.number as number,
    });
  }
  return { errors, warnings };
}

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Throws the first error {@linkcode validateTable} finds, and returns its
 * warnings otherwise.
 */
export function assertValidTable(
  table: PartitionTable,
  options: ValidateTableOptions = {},
): TableWarning[] {
  const report = validateTable(table, options);
  if (report.errors[0]) throw report.errors[0];
  return report.warnings;
}
