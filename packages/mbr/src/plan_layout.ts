import { type GeometryOptions, normalizeGeometry } from "@bigfile/chs-geometry";
import { PartitionLayoutError } from "./errors.ts";
import type { Partition, PartitionKind, PartitionTable } from "./partition_table.ts";
import { isExtendedType } from "./partition_types.ts";

/** How partitions are aligned. */
export type Alignment = "cylinder" | "mib" | "sector";

/** A partition size: sectors (exact), bytes, percent of the disk, or the rest of the free space. */
export type SizeSpec = { sectors: number } | { bytes: number } | { percent: number } | "rest";

/** One partition to place. Missing fields are chosen as sfdisk would. */
export interface PartitionRequest {
  /** @default "extended" for extended types, "logical" once inside an extended, else "primary" */
  kind?: PartitionKind;
  /** Slot (1-4) or logical number (5+). @default the next free */
  number?: number;
  /** First sector. @default the next aligned free sector */
  start?: number;
  /** @default "rest" */
  size?: SizeSpec;
  /** @default 0x83 (0x05 for kind "extended") */
  type?: number;
  /** @default false */
  bootable?: boolean;
}

/** Options for {@linkcode planLayout}. */
export interface PlanLayoutOptions {
  /** Disk size in bytes. */
  diskSize: number;
  /** @default "mib" */
  align?: Alignment;
  /** @default 255/63/512 */
  geometry?: GeometryOptions;
  /** Disk signature. @default 0 */
  labelId?: number;
  /** Alignment grain in sectors, overriding the alignment's (sfdisk's `grain:` header). */
  grain?: number;
  /** First usable sector, overriding the alignment's (sfdisk's `first-lba:` header). */
  firstLba?: number;
}

/** The numbers an alignment works with, in sectors. */
export interface AlignmentRules {
  /** Partitions start on multiples of this (except the first under cylinder alignment). */
  grain: number;
  /** Where the first partition starts. */
  firstLba: number;
  /** Sectors between an EBR and its logical partition. */
  ebrGap: number;
  /** The last sector partitions may use (cylinder: the end of the last whole cylinder). */
  lastLba: number;
  /** Whether ends are rounded to the grain (bytes and percent sizes, cylinder alignment). */
  roundEnds: boolean;
}

/**
 * The rules of an alignment on a disk: `cylinder` (the seed's: first partition
 * at sector 63, the rest on cylinder boundaries, ends on cylinder ends, only
 * whole cylinders used), `mib` (2048-sector grain as sfdisk's default),
 * `sector` (no alignment, first partition at sector 1).
 */
export function alignmentRules(
  align: Alignment,
  diskSize: number,
  geometry: GeometryOptions = {},
): AlignmentRules {
  const g = normalizeGeometry(geometry);
  const total = Math.floor(diskSize / g.sectorSize);
  if (align === "cylinder") {
    const cyl = g.heads * g.sectorsPerTrack;
    return {
      grain: cyl,
      firstLba: g.sectorsPerTrack,
      ebrGap: g.sectorsPerTrack,
      lastLba: Math.floor(total / cyl) * cyl - 1,
      roundEnds: true,
    };
  }
  if (align === "mib") {
    const mib = Math.max(1, (1 << 20) / g.sectorSize);
    return { grain: mib, firstLba: mib, ebrGap: mib, lastLba: total - 1, roundEnds: true };
  }
  return { grain: 1, firstLba: 1, ebrGap: 1, lastLba: total - 1, roundEnds: false };
}

const alignUp = (n: number, grain: number) => Math.ceil(n / grain) * grain;

/**
 * Places partitions on a disk: starts aligned, sizes as sectors (exact),
 * bytes or percent (ends rounded to the alignment), or "rest"; an extended
 * request followed by logical ones gets an EBR before each logical partition.
 * Throws {@linkcode PartitionLayoutError} (`no-room`) when a request does not fit.
 *
 * @example The seed's layout
 * ```ts
 * import { planLayout } from "@bigfile/mbr";
 * const table = planLayout([{ type: 0x83 }], { diskSize: 4141875200, align: "cylinder" });
 * table.partitions[0]; // { number: 1, start: 63, size: 8080632, ... }
 * ```
 */
export function planLayout(
  requests: PartitionRequest[],
  options: PlanLayoutOptions,
): PartitionTable {
  const g = normalizeGeometry(options.geometry);
  const rules = alignmentRules(options.align ?? "mib", options.diskSize, g);
  if (options.grain !== undefined) {
    rules.grain = Math.max(1, options.grain);
    rules.ebrGap = rules.grain;
    rules.firstLba = rules.grain;
    rules.roundEnds = rules.grain > 1;
  }
  if (options.firstLba !== undefined) rules.firstLba = options.firstLba;
  const total = Math.floor(options.diskSize / g.sectorSize);
  const partitions: Partition[] = [];
  const used = new Set<number>();
  let cursor = rules.firstLba;
  let placedTop = false;
  let ext: Partition | undefined;
  let logicalCursor = 0;
  let nextLogical = 5;
  for (const req of requests) {
    const type = req.type ?? (req.kind === "extended" ? 0x05 : 0x83);
    const kind: PartitionKind =
      req.kind ??
      (req.number !== undefined && req.number >= 5
        ? "logical"
        : isExtendedType(type)
          ? "extended"
          : req.number === undefined &&
              ext &&
              (req.start === undefined ||
                (req.start >= ext.start && req.start <= ext.start + ext.size - 1))
            ? "logical"
            : "primary");
    if (kind === "logical") {
      if (!ext)
        throw new PartitionLayoutError(
          "logical-outside",
          "Cannot place a logical partition before an extended one",
          -1,
          req.number,
        );
      const extEnd = ext.start + ext.size - 1;
      let ebr: number;
      let start: number;
      if (req.start !== undefined) {
        start = req.start;
        ebr =
          logicalCursor === ext.start ? ext.start : Math.max(logicalCursor, start - rules.ebrGap);
      } else {
        ebr = logicalCursor === ext.start ? ext.start : alignUp(logicalCursor, rules.grain);
        start = ebr + rules.ebrGap;
      }
      const number = req.number ?? nextLogical;
      const size = sizeOf(req.size, start, extEnd, rules, total, g.sectorSize, number);
      partitions.push({ number, kind, start, size, type, bootable: req.bootable ?? false, ebr });
      nextLogical = number + 1;
      logicalCursor = start + size;
      continue;
    }
    const start = req.start ?? (placedTop ? alignUp(cursor, rules.grain) : rules.firstLba);
    let number = req.number;
    if (number === undefined) {
      number = [1, 2, 3, 4].find((n) => !used.has(n));
      if (number === undefined)
        throw new PartitionLayoutError(
          "bad-number",
          "Cannot add a partition: all four primary slots are used (make an extended partition for more)",
        );
    }
    used.add(number);
    const size = sizeOf(req.size, start, rules.lastLba, rules, total, g.sectorSize, number);
    const p: Partition = { number, kind, start, size, type, bootable: req.bootable ?? false };
    partitions.push(p);
    placedTop = true;
    cursor = start + size;
    if (kind === "extended") {
      ext = p;
      logicalCursor = p.start;
    }
  }
  partitions.sort((a, b) => a.number - b.number);
  return { labelId: options.labelId ?? 0, sectorSize: g.sectorSize, partitions };
}

function sizeOf(
  spec: SizeSpec | undefined,
  start: number,
  limit: number,
  rules: AlignmentRules,
  total: number,
  ss: number,
  number: number,
): number {
  const room = limit - start + 1;
  if (room < 1)
    throw new PartitionLayoutError(
      "no-room",
      `Cannot place partition ${number} at sector ${start}: no free space there (the usable area ends at sector ${limit})`,
      -1,
      number,
    );
  if (spec === undefined || spec === "rest") return room;
  let sectors: number;
  let round = rules.roundEnds;
  if ("sectors" in spec) {
    sectors = spec.sectors;
    round = false;
  } else if ("bytes" in spec) sectors = Math.ceil(spec.bytes / ss);
  else sectors = Math.floor((total * spec.percent) / 100);
  if (round) sectors = alignUp(start + sectors, rules.grain) - start;
  if (!Number.isSafeInteger(sectors) || sectors < 1)
    throw new PartitionLayoutError(
      "bad-range",
      `Cannot make partition ${number} of ${sectors} sectors`,
      -1,
      number,
    );
  if (sectors > room) {
    throw new PartitionLayoutError(
      "no-room",
      `Cannot fit partition ${number}: it needs ${sectors} sectors from sector ${start}, but only ${room} are free (up to sector ${limit})`,
      -1,
      number,
    );
  }
  return sectors;
}

/**
 * Parses a size as scripts and options write it: sectors (`2048`, `2048s`),
 * bytes with a suffix (`100M`, `4GiB`, `512B`), percent (`50%`), or the rest
 * (`+`, `-`, empty, `rest`). Throws `SyntaxError`.
 */
export function parseSizeSpec(text: string): SizeSpec {
  const t = text.trim().replace(/^\+(?=\d)/, "");
  if (t === "" || t === "+" || t === "-" || t.toLowerCase() === "rest") return "rest";
  let m = /^(\d+)s?$/i.exec(t);
  if (m) return { sectors: Number(m[1]) };
  m = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (m) return { percent: Number(m[1]) };
  m = /^(\d+(?:\.\d+)?)\s*([KMGTPE])(i?B)?$/i.exec(t);
  if (m) {
    const power = "KMGTPE".indexOf((m[2] as string).toUpperCase()) + 1;
    const base = m[3]?.toLowerCase() === "b" ? 1000 : 1024;
    return { bytes: Math.round(Number(m[1]) * base ** power) };
  }
  m = /^(\d+)B$/i.exec(t);
  if (m) return { bytes: Number(m[1]) };
  throw new SyntaxError(
    `Cannot parse size '${text}': expected sectors (2048), bytes with a suffix (100M, 4GiB), a percentage (50%) or + for the rest`,
  );
}
