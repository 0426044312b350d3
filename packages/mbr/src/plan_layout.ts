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
  /**
   * How ends of byte and percent sizes are rounded to the grain: `up` (cylinder:
   * whole cylinders), `nearest` (MiB, as sfdisk), or not at all.
   */
  roundEnds: "up" | "nearest" | false;
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
      roundEnds: "up",
    };
  }
  if (align === "mib") {
    const mib = Math.max(1, (1 << 20) / g.sectorSize);
    return { grain: mib, firstLba: mib, ebrGap: mib, lastLba: total - 1, roundEnds: "nearest" };
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
  const align = options.align ?? "mib";
  const rules = alignmentRules(align, options.diskSize, g);
  if (options.grain !== undefined) {
    rules.grain = Math.max(1, options.grain);
    rules.roundEnds = rules.grain > 1 ? "nearest" : false;
  }
  if (options.firstLba !== undefined) rules.firstLba = options.firstLba;
  const total = Math.floor(options.diskSize / g.sectorSize);
  const partitions: Partition[] = [];
  const used = new Set<number>();
  const top: Array<{ start: number; end: number }> = [];
  let ext: Partition | undefined;
  let nextLogical = 5;
  /** Sectors used inside the extended partition: its head EBR, other EBRs, logical partitions. */
  const inner: Array<{ start: number; end: number; kind: "head" | "ebr" | "data" }> = [];
  const cylinder = align === "cylinder" && options.grain === undefined;

  /** Free stretches of the disk outside the primary and extended partitions. */
  const gaps = () => {
    const out: Array<{ start: number; end: number }> = [];
    let at = rules.firstLba;
    for (const r of [...top].sort((a, b) => a.start - b.start)) {
      if (r.start > at) out.push({ start: at, end: Math.min(r.start - 1, rules.lastLba) });
      at = Math.max(at, r.end + 1);
    }
    if (at <= rules.lastLba) out.push({ start: at, end: rules.lastLba });
    return out;
  };
  /** The first aligned free stretch outside the primary and extended partitions, as sfdisk picks it. */
  const firstFree = () => {
    for (const gap of gaps()) {
      const start = gap.start <= rules.firstLba ? rules.firstLba : alignUp(gap.start, rules.grain);
      if (start <= gap.end) return { start, end: gap.end };
    }
    return undefined;
  };
  const freeSlot = () => [1, 2, 3, 4].find((n) => !used.has(n));

  for (const req of requests) {
    const type = req.type ?? (req.kind === "extended" ? 0x05 : 0x83);
    let kind: PartitionKind;
    if (req.kind) kind = req.kind;
    else if (req.number !== undefined)
      kind = req.number >= 5 ? "logical" : isExtendedType(type) ? "extended" : "primary";
    else if (isExtendedType(type)) kind = "extended";
    else if (!ext) kind = "primary";
    else if (req.start !== undefined)
      kind =
        req.start >= ext.start && req.start <= ext.start + ext.size - 1 ? "logical" : "primary";
    else {
      // As sfdisk: a free primary slot with free space outside the extended partition comes first.
      kind = freeSlot() !== undefined && firstFree() ? "primary" : "logical";
    }
    if (kind === "logical") {
      if (!ext)
        throw new PartitionLayoutError(
          "logical-outside",
          "Cannot place a logical partition before an extended one",
          -1,
          req.number,
        );
      const extStart = ext.start;
      const extEnd = ext.start + ext.size - 1;
      const first = !partitions.some((q) => q.kind === "logical");
      const gap = rules.ebrGap;
      const used = (x: number) => inner.find((r) => x >= r.start && x <= r.end);
      const nextFree = (x: number) => {
        let at = x;
        for (let r = used(at); r; r = used(at)) at = r.end + 1;
        return at;
      };
      /** The first free sector of the free stretch that holds `x`. */
      const stretchStart = (x: number) =>
        Math.max(extStart, ...inner.filter((r) => r.end < x).map((r) => r.end + 1));
      let start: number;
      let ebr: number;
      if (req.start !== undefined) {
        start = req.start;
        const before = start - gap;
        ebr = first
          ? ext.start
          : before >= ext.start && !used(before)
            ? before
            : stretchStart(start);
      } else if (cylinder) {
        // One track after an EBR on a cylinder boundary, as fdisk -c=dos does.
        let at = ext.start;
        for (;;) {
          const candidate = alignUp(at, rules.grain);
          const r = inner.find(
            (q) => q.kind !== "head" && candidate + gap >= q.start && candidate <= q.end,
          );
          if (!r) {
            ebr = first ? ext.start : candidate;
            start = candidate + gap;
            break;
          }
          at = r.end + 1;
        }
      } else {
        // As sfdisk: from the extended start plus the first-LBA offset, the next free sector
        // with a free sector before it for the EBR, aligned up.
        let at = ext.start + rules.firstLba;
        for (let guard = 0; ; guard++) {
          const free = nextFree(at);
          // Right after a logical partition: leave the EBR gap.
          at = free !== at || used(free - 1)?.kind === "data" ? free + gap : free;
          const candidate = alignUp(at, rules.grain);
          if (!used(candidate) || guard > inner.length + 2) {
            start = candidate;
            break;
          }
          at = candidate;
        }
        const before = start - gap;
        ebr = first
          ? ext.start
          : before >= stretchStart(start) && !used(before)
            ? before
            : stretchStart(start);
      }
      // Up to the next used sector; before a later logical partition, leave room for its EBR (as sfdisk).
      const limit = Math.min(
        extEnd,
        ...inner
          .filter((r) => r.start > start)
          .map((r) => (r.kind === "data" && !cylinder ? r.start - gap - 1 : r.start - 1)),
      );
      const number = req.number ?? nextLogical;
      const size = sizeOf(req.size, start, limit, rules, total, g.sectorSize, number);
      partitions.push({ number, kind, start, size, type, bootable: req.bootable ?? false, ebr });
      if (ebr !== ext.start) inner.push({ start: ebr, end: ebr, kind: "ebr" });
      inner.push({ start: cylinder ? ebr : start, end: start + size - 1, kind: "data" });
      nextLogical = number + 1;
      continue;
    }
    const number = req.number ?? freeSlot();
    if (number === undefined) {
      throw new PartitionLayoutError(
        "bad-number",
        "Cannot add a partition: all four primary slots are used (make an extended partition for more)",
      );
    }
    let start: number;
    let size: number;
    if (req.start !== undefined) {
      start = req.start;
      size = sizeOf(req.size, start, rules.lastLba, rules, total, g.sectorSize, number);
    } else {
      // As sfdisk: the first aligned free stretch that holds it ("rest": the first one).
      let spot: { start: number; size: number } | undefined;
      let refusal: PartitionLayoutError | undefined;
      for (const gap of gaps()) {
        const at = gap.start <= rules.firstLba ? rules.firstLba : alignUp(gap.start, rules.grain);
        if (at > gap.end) continue;
        try {
          spot = {
            start: at,
            size: sizeOf(req.size, at, gap.end, rules, total, g.sectorSize, number),
          };
          break;
        } catch (error) {
          if (!(error instanceof PartitionLayoutError)) throw error;
          refusal ??= error;
        }
      }
      if (!spot) {
        throw (
          refusal ??
          new PartitionLayoutError(
            "no-room",
            `Cannot place partition ${number}: no free space left outside the other partitions (sectors ${rules.firstLba}..${rules.lastLba})`,
            -1,
            number,
          )
        );
      }
      ({ start, size } = spot);
    }
    used.add(number);
    const p: Partition = { number, kind, start, size, type, bootable: req.bootable ?? false };
    partitions.push(p);
    top.push({ start, end: start + size - 1 });
    if (kind === "extended") {
      ext = p;
      inner.push({ start: p.start, end: p.start, kind: "head" });
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
  if (round === "up") sectors = alignUp(start + sectors, rules.grain) - start;
  else if (round === "nearest") {
    // sfdisk aligns the end of a size given in bytes to the nearest grain boundary.
    const end = start + sectors;
    const down = Math.floor(end / rules.grain) * rules.grain;
    const near = end - down < rules.grain / 2 ? down : down + rules.grain;
    if (near - start >= 1) sectors = near - start;
  }
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
