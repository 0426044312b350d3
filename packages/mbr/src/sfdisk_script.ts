import type { GeometryOptions } from "@bigfile/chs-geometry";
import { PartitionTableError } from "./errors.ts";
import type { PartitionTable } from "./partition_table.ts";
import { formatPartitionType, parsePartitionType } from "./partition_types.ts";
import {
  type Alignment,
  type PartitionRequest,
  type PlanLayoutOptions,
  parseSizeSpec,
  planLayout,
} from "./plan_layout.ts";

/** An sfdisk script: its headers and one request per partition line. */
export interface SfdiskScript {
  /** Header lines (`label`, `label-id`, `device`, `unit`, `sector-size`, `grain`, `first-lba`, ...). */
  headers: Record<string, string>;
  /** The disk signature from `label-id`, when given. */
  labelId?: number;
  /** The partitions, in script order; `number` is set from the node name (`sda5`) when given. */
  partitions: PartitionRequest[];
}

const HEADERS = new Set([
  "label",
  "label-id",
  "device",
  "unit",
  "sector-size",
  "first-lba",
  "last-lba",
  "grain",
  "table-length",
]);

/**
 * Parses an sfdisk script (what `sfdisk --dump` prints and `sfdisk` reads):
 * header lines `key: value`, then one line per partition, either named
 * (`sda1 : start=63, size=8080632, type=83, bootable`) or positional
 * (`63,8080632,83,*`; empty fields take defaults). Only `label: dos` is
 * accepted. Throws {@linkcode PartitionTableError} (`script-syntax`) with the
 * character offset of the bad line.
 *
 * @example Usage
 * ```ts
 * import { parseSfdiskScript } from "@bigfile/mbr";
 * const script = parseSfdiskScript("label: dos\nstart=63, size=8080632, type=83, bootable\n");
 * script.partitions[0]; // { start: 63, size: { sectors: 8080632 }, type: 0x83, bootable: true }
 * ```
 */
export function parseSfdiskScript(text: string): SfdiskScript {
  const headers: Record<string, string> = {};
  const partitions: PartitionRequest[] = [];
  let offset = 0;
  let labelId: number | undefined;
  for (const rawLine of text.split("\n")) {
    const lineOffset = offset;
    offset += rawLine.length + 1;
    const line = rawLine.replace(/#.*$/, "").trim();
    if (line === "") continue;
    const fail = (why: string): never => {
      throw new PartitionTableError(
        "script-syntax",
        `Cannot parse sfdisk script line '${rawLine.trim()}': ${why}`,
        lineOffset,
      );
    };
    const header = /^([a-z-]+)\s*:\s*(.*)$/i.exec(line);
    if (header && HEADERS.has((header[1] as string).toLowerCase()) && partitions.length === 0) {
      const key = (header[1] as string).toLowerCase();
      const value = (header[2] as string).trim();
      headers[key] = value;
      if (key === "label" && value !== "dos")
        fail(`only 'label: dos' tables are supported, not '${value}'`);
      if (key === "label-id") {
        if (!/^(0x)?[0-9a-f]{1,8}$/i.test(value))
          fail("label-id must be a 32-bit hex number like 0x12345678");
        labelId = Number.parseInt(value.replace(/^0x/i, ""), 16);
      }
      if (key === "unit" && value !== "sectors") fail("only 'unit: sectors' is supported");
      continue;
    }
    // Partition line: an optional "node :" prefix, then fields.
    let body = line;
    let number: number | undefined;
    const named = /^(\S+)\s*:\s*(.*)$/.exec(line);
    if (named && !/=/.test(named[1] as string)) {
      body = named[2] as string;
      const m = /(\d+)$/.exec(named[1] as string);
      if (m) number = Number(m[1]);
    }
    const req: PartitionRequest = {};
    if (number !== undefined) req.number = number;
    try {
      if (/=|\bbootable\b/i.test(body)) parseNamed(body, req);
      else parsePositional(body, req);
    } catch (error) {
      fail((error as Error).message.replace(/^Cannot parse /, "cannot parse "));
    }
    partitions.push(req);
  }
  const script: SfdiskScript = { headers, partitions };
  if (labelId !== undefined) script.labelId = labelId;
  return script;
}

function parseStart(text: string): number | undefined {
  const spec = parseSizeSpec(text);
  if (spec === "rest") return undefined;
  if ("sectors" in spec) return spec.sectors;
  if ("bytes" in spec) return Math.ceil(spec.bytes / 512);
  throw new SyntaxError(`Cannot parse start '${text}': a start cannot be a percentage`);
}

function parseNamed(body: string, req: PartitionRequest): void {
  for (const field of body.split(/\s*,\s*/)) {
    if (field === "") continue;
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value =
      eq < 0
        ? ""
        : field
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, "$1");
    if (key === "start") {
      const start = parseStart(value);
      if (start !== undefined) req.start = start;
    } else if (key === "size") req.size = parseSizeSpec(value);
    else if (key === "type" || key === "id") req.type = parsePartitionType(value);
    else if (key === "bootable") req.bootable = true;
    else if (key === "attrs" || key === "uuid" || key === "name") {
      // GPT-only fields: ignored for DOS tables, as sfdisk does.
    } else
      throw new SyntaxError(
        `Cannot parse field '${field}': unknown field (start, size, type, bootable)`,
      );
  }
}

function parsePositional(body: string, req: PartitionRequest): void {
  const fields = body.includes(",") ? body.split(",").map((f) => f.trim()) : body.split(/\s+/);
  const [start = "", size = "", type = "", boot = ""] = fields;
  if (fields.length > 4)
    throw new SyntaxError(`Cannot parse '${body}': at most 4 fields (start, size, type, bootable)`);
  const s = start === "" ? undefined : parseStart(start);
  if (s !== undefined) req.start = s;
  if (size !== "") req.size = parseSizeSpec(size);
  if (type !== "") req.type = parsePartitionType(type);
  if (boot === "*" || boot === "+") req.bootable = true;
  else if (boot !== "" && boot !== "-")
    throw new SyntaxError(`Cannot parse bootable flag '${boot}': use * or -`);
}

/** Options for {@linkcode formatSfdiskDump}. */
export interface FormatScriptOptions {
  /** The device name for the header and partition nodes. @default "disk" */
  device?: string;
}

/** A partition's node name as util-linux makes it: `sda1`, `loop0p1`, `big.img1`. */
export function partitionNode(device: string, number: number): string {
  return `${device}${/\d$/.test(device) ? "p" : ""}${number}`;
}

/**
 * Formats a table as `sfdisk --dump` does: headers, a blank line, then one
 * line per partition, which `sfdisk` and {@linkcode parseSfdiskScript} read back.
 *
 * @example Usage
 * ```ts
 * import { formatSfdiskDump } from "@bigfile/mbr";
 * formatSfdiskDump({ labelId: 0xaf960693, sectorSize: 512, partitions: [
 *   { number: 1, kind: "primary", start: 63, size: 8080632, type: 0x83, bootable: true },
 * ] }, { device: "seed.img" });
 * // ...seed.img1 : start=          63, size=     8080632, type=83, bootable
 * ```
 */
export function formatSfdiskDump(table: PartitionTable, options: FormatScriptOptions = {}): string {
  const device = options.device ?? "disk";
  let out = `label: dos\nlabel-id: 0x${(table.labelId >>> 0).toString(16).padStart(8, "0")}\ndevice: ${device}\nunit: sectors\nsector-size: ${table.sectorSize}\n\n`;
  for (const p of table.partitions) {
    out += `${partitionNode(device, p.number)} : start=${String(p.start).padStart(12)}, size=${String(p.size).padStart(12)}, type=${formatPartitionType(p.type)}${p.bootable ? ", bootable" : ""}\n`;
  }
  return out;
}

/** Options for {@linkcode scriptToTable}. */
export interface ScriptToTableOptions {
  /** Disk size in bytes. */
  diskSize: number;
  /** Disk signature when the script has no `label-id`. @default 0 */
  labelId?: number;
  /** Alignment when the script has no `grain`. @default "mib" */
  align?: Alignment;
  /** @default 255/63/512 */
  geometry?: GeometryOptions;
}

/**
 * Turns a parsed script into a full table on a disk of a given size: missing
 * starts and sizes are filled in as sfdisk does (next aligned free sector, the
 * rest of the free space), `grain:` and `first-lba:` headers are honoured.
 * Validate the result with {@linkcode validateTable}.
 */
export function scriptToTable(script: SfdiskScript, options: ScriptToTableOptions): PartitionTable {
  const sectorSize = Number(script.headers["sector-size"] ?? options.geometry?.sectorSize ?? 512);
  const plan: PlanLayoutOptions = {
    diskSize: options.diskSize,
    align: options.align ?? "mib",
    geometry: { ...options.geometry, sectorSize },
    labelId: script.labelId ?? options.labelId ?? 0,
  };
  const grain = script.headers.grain;
  if (grain !== undefined) {
    const spec = parseSizeSpec(grain);
    const bytes =
      spec !== "rest" && "bytes" in spec
        ? spec.bytes
        : spec !== "rest" && "sectors" in spec
          ? spec.sectors
          : 0;
    plan.grain = Math.max(1, Math.floor(bytes / sectorSize));
  }
  const firstLba = script.headers["first-lba"];
  if (firstLba !== undefined) plan.firstLba = Number(firstLba);
  return planLayout(script.partitions, plan);
}
