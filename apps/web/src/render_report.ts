import type { BootInspection } from "@bigfile/grub-mbr";
import { formatBytes } from "./format_bytes.ts";
import type { DiskReport, VolumeReport } from "./inspect_disk.ts";

const BOOT_CODE_NAMES: Record<BootInspection["bootCode"], string> = {
  grub2: "GRUB 2 (boot.img)",
  "grub-legacy": "GRUB Legacy (stage1)",
  syslinux: "syslinux MBR",
  other: "other boot code",
  none: "none (zeros)",
};

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  attributes: Record<string, string> = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function section(id: string, title: string): HTMLElement {
  const node = element("section", undefined, { id, "aria-labelledby": `${id}-title` });
  node.append(element("h2", title, { id: `${id}-title` }));
  return node;
}

/** A `<dl>` of name/value pairs. */
function facts(pairs: [string, string][]): HTMLDListElement {
  const list = element("dl");
  for (const [name, value] of pairs) list.append(element("dt", name), element("dd", value));
  return list;
}

function geometrySection(report: DiskReport, name: string, format: string): HTMLElement {
  const g = report.geometry;
  const node = section("disk", "Disk");
  node.append(
    facts([
      ["Image", name],
      ["Format", format],
      ["Size", formatBytes(report.bytes)],
      [
        "Geometry",
        `${g.heads} heads, ${g.sectorsPerTrack} sectors/track, ${g.cylinders} cylinders`,
      ],
      ["Cylinder", formatBytes(g.cylinderBytes)],
      ["Past the last whole cylinder", formatBytes(g.lostBytes)],
    ]),
  );
  return node;
}

const TABLE_COLUMNS = [
  "Partition",
  "Boot",
  "Start sector",
  "Sectors",
  "Offset (bytes)",
  "Size (bytes)",
  "Id",
  "Type",
] as const;

function tableSection(report: DiskReport): HTMLElement {
  const node = section("partitions", "Partition table");
  if (!report.listing) {
    node.append(element("p", "No DOS partition table: the image is read as one volume."));
    return node;
  }
  const table = element("table", undefined, { id: "partition-table" });
  const labelId = (report.labelId ?? 0).toString(16).padStart(8, "0");
  table.append(element("caption", `DOS partition table, disk identifier 0x${labelId}`));
  const head = element("tr");
  for (const column of TABLE_COLUMNS) head.append(element("th", column, { scope: "col" }));
  const thead = element("thead");
  thead.append(head);
  table.append(thead);
  const body = element("tbody");
  for (const v of report.volumes) {
    const row = element("tr", undefined, { "data-partition": String(v.number) });
    row.append(element("th", String(v.number), { scope: "row" }));
    for (const cell of [
      v.bootable ? "*" : "",
      String(v.start),
      String(v.sectors),
      String(v.offset),
      String(v.bytes),
      v.type.toString(16),
      `${v.typeName}${v.kind === "primary" ? "" : ` (${v.kind})`}`,
    ]) {
      row.append(element("td", cell));
    }
    body.append(row);
  }
  table.append(body);
  const listing = element("details");
  listing.append(element("summary", "As fdisk -l lists it"), element("pre", report.listing));
  node.append(table, listing);
  return node;
}

function volumeName(v: VolumeReport): string {
  return v.number === 0 ? "Whole disk" : `Partition ${v.number}`;
}

function filesystemsSection(report: DiskReport): HTMLElement {
  const node = section("filesystems", "Filesystems");
  for (const v of report.volumes) {
    if (v.kind === "extended") continue;
    const item = element("article", undefined, { "data-partition": String(v.number) });
    item.append(element("h3", volumeName(v)));
    const fs = v.filesystem;
    if (fs) {
      item.append(
        facts([
          ["Type", fs.type],
          ["Blocks", `${fs.blockCount} of ${fs.blockSize} bytes`],
          ["Size", formatBytes(fs.bytes)],
          ["Label", fs.label || "none"],
          ["UUID", fs.uuid],
          ["Free", formatBytes(fs.freeBytes)],
          ["Inodes", `${fs.inodeCount} (${fs.freeInodes} free)`],
          ["State", fs.state],
        ]),
      );
    } else {
      item.append(element("p", v.problem ?? "No ext2/3/4 filesystem."));
    }
    node.append(item);
  }
  return node;
}

function bootSection(report: DiskReport): HTMLElement {
  const b = report.boot;
  const node = section("boot", "Boot code");
  const pairs: [string, string][] = [
    ["Boot code", BOOT_CODE_NAMES[b.bootCode]],
    ["Boot signature (0x55AA)", b.bootSignature ? "present" : "missing"],
  ];
  const core = b.grub?.core;
  if (core) {
    pairs.push([
      "GRUB core.img",
      `sector ${core.sector}, ${core.sectors} sectors; Reed-Solomon: ${core.integrity}${core.problem ? ` (${core.problem})` : ""}`,
    ]);
  }
  if (b.grubLegacy) pairs.push(["GRUB stage2", `sector ${b.grubLegacy.stage2Sector}`]);
  node.append(facts(pairs));
  return node;
}

function checksSection(report: DiskReport): HTMLElement {
  const node = section("checks", "Checks");
  const list = element("ul");
  for (const c of report.checks) list.append(element("li", `${c.level}: ${c.message}`));
  if (report.checks.length === 0) {
    list.append(element("li", "ok: the partition table and the filesystems agree"));
  }
  node.append(list);
  return node;
}

/** The report as `bigfile inspect` orders it: disk, table, filesystems, boot code, checks. */
export function renderReport(report: DiskReport, name: string, format: string): HTMLElement[] {
  return [
    geometrySection(report, name, format),
    tableSection(report),
    filesystemsSection(report),
    bootSection(report),
    checksSection(report),
  ];
}
