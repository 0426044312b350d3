import { fdiskBlocks, type GeometryOptions, geometryOf } from "@bigfile/chs-geometry";
import type { PartitionTable } from "./partition_table.ts";
import { partitionTypeName } from "./partition_types.ts";
import { partitionNode } from "./sfdisk_script.ts";

/** Options for the fdisk listings. */
export interface ListingOptions {
  /** Device name for the header and partition names. @default "disk" */
  device?: string;
  /** Disk size in bytes, for the header. */
  diskSize?: number;
  /** @default 255/63 */
  geometry?: GeometryOptions;
}

/**
 * A size as util-linux prints it in listings: one letter, one decimal unless
 * it is zero (`3.9G`, `100M`, `512B`).
 */
export function humanSize(bytes: number): string {
  let exp = 0;
  while (exp < 60 && bytes >= 2 ** (exp + 10)) exp += 10;
  const letter = "BKMGTPE"[exp / 10] as string;
  if (exp === 0) return `${bytes}${letter}`;
  let whole = Math.floor(bytes / 2 ** exp);
  let frac = bytes - whole * 2 ** exp;
  if (frac) {
    frac = Math.floor((Math.floor(frac / 2 ** (exp - 10)) + 50) / 100);
    if (frac === 10) {
      whole++;
      frac = 0;
    }
  }
  return frac ? `${whole}.${frac}${letter}` : `${whole}${letter}`;
}

function table(rows: string[][], rightAligned: boolean[], minWidths: number[]): string {
  const widths =
    rows[0]?.map((_, c) => Math.max(minWidths[c] ?? 0, ...rows.map((r) => (r[c] ?? "").length))) ??
    [];
  return rows
    .map((r) =>
      r
        .map((cell, c) =>
          rightAligned[c] ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number),
        )
        .join(" ")
        .trimEnd(),
    )
    .join("\n");
}

/**
 * The listing of `fdisk -l` (util-linux 2.38): disk header, then
 * `Device Boot Start End Sectors Size Id Type`.
 *
 * @example Usage
 * ```ts
 * import { formatFdiskListing } from "@bigfile/mbr";
 * formatFdiskListing({ labelId: 0, sectorSize: 512, partitions: [
 *   { number: 1, kind: "primary", start: 63, size: 8080632, type: 0x83, bootable: true },
 * ] }, { device: "seed.img", diskSize: 4141875200 });
 * // ... seed.img1  *       63 8080694 8080632  3.9G 83 Linux
 * ```
 */
export function formatFdiskListing(t: PartitionTable, options: ListingOptions = {}): string {
  const device = options.device ?? "disk";
  const ss = t.sectorSize;
  let out = "";
  if (options.diskSize !== undefined) {
    const size = options.diskSize;
    out +=
      `Disk ${device}: ${humanSizeLong(size)}, ${size} bytes, ${Math.floor(size / ss)} sectors\n` +
      `Units: sectors of 1 * ${ss} = ${ss} bytes\n` +
      `Sector size (logical/physical): ${ss} bytes / ${ss} bytes\n` +
      `I/O size (minimum/optimal): ${ss} bytes / ${ss} bytes\n`;
  }
  out += `Disklabel type: dos\nDisk identifier: 0x${(t.labelId >>> 0).toString(16).padStart(8, "0")}\n`;
  if (t.partitions.length === 0) return out;
  const rows = [["Device", "Boot", "Start", "End", "Sectors", "Size", "Id", "Type"]];
  for (const p of t.partitions) {
    rows.push([
      partitionNode(device, p.number),
      p.bootable ? "*" : "",
      String(p.start),
      String(p.start + p.size - 1),
      String(p.size),
      humanSize(p.size * ss),
      p.type.toString(16),
      partitionTypeName(p.type),
    ]);
  }
  return `${out}\n${table(rows, [false, false, true, true, true, true, true, false], [10, 4, 0, 0, 0, 5, 2, 0])}\n`;
}

/** `3.86 GiB` as fdisk's disk header line prints sizes. */
function humanSizeLong(bytes: number): string {
  let exp = 0;
  while (exp < 60 && bytes >= 2 ** (exp + 10)) exp += 10;
  if (exp === 0) return `${bytes} B`;
  const value = bytes / 2 ** exp;
  const text = (Math.round(value * 100) / 100).toString();
  return `${text} ${"BKMGTPE"[exp / 10]}iB`;
}

/**
 * The legacy cylinder listing of old fdisk (`fdisk -l` before util-linux
 * 2.18, the one in the seed): geometry lines, `Units = cylinders of ...`, then
 * `Device Boot Start End Blocks Id System` with cylinders counted from 1 and
 * Blocks in KiB (`+` for an odd sector).
 *
 * @example The seed's table
 * ```ts
 * import { formatLegacyListing } from "@bigfile/mbr";
 * formatLegacyListing({ labelId: 0, sectorSize: 512, partitions: [
 *   { number: 1, kind: "primary", start: 63, size: 8080632, type: 0x83, bootable: false },
 * ] }, { device: "/dev/loop0", diskSize: 4141875200 });
 * // /dev/loop0p1               1         503     4040316   83  Linux
 * ```
 */
export function formatLegacyListing(t: PartitionTable, options: ListingOptions = {}): string {
  const device = options.device ?? "disk";
  const ss = t.sectorSize;
  const g = geometryOf(options.diskSize ?? 0, { ...options.geometry, sectorSize: ss });
  let out = "";
  if (options.diskSize !== undefined) {
    out += `\nDisk ${device}: ${Math.floor(options.diskSize / 1e6)} MB, ${options.diskSize} bytes\n`;
  }
  out +=
    `${g.heads} heads, ${g.sectorsPerTrack} sectors/track, ${g.cylinders} cylinders\n` +
    `Units = cylinders of ${g.cylinderSectors} * ${ss} = ${g.cylinderBytes} bytes\n` +
    `Disk identifier: 0x${(t.labelId >>> 0).toString(16).padStart(8, "0")}\n\n`;
  const names = t.partitions.map((p) => partitionNode(device, p.number));
  const w = Math.max(6, ...names.map((n) => n.length));
  out += `${"Device".padStart(w)} Boot      Start         End      Blocks   Id  System\n`;
  t.partitions.forEach((p, i) => {
    const cyl = (lba: number) => Math.floor(lba / g.cylinderSectors) + 1;
    const blocks = fdiskBlocks(p.size, ss);
    out += `${(names[i] as string).padEnd(w)}   ${p.bootable ? "*" : " "} ${String(cyl(p.start)).padStart(11)} ${String(cyl(p.start + p.size - 1)).padStart(11)} ${String(blocks.blocks).padStart(11)}${blocks.odd ? "+" : " "}  ${p.type.toString(16).padStart(2)}  ${partitionTypeName(p.type)}\n`;
  });
  return out;
}
