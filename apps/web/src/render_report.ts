import { bootCodeName, type MenuReport } from "@bigfile/bigfile/inspect";
import { formatBytes } from "./format_bytes.ts";
import type { DiskReport, VolumeReport } from "./inspect_disk.ts";

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
  if (!report.table) {
    node.append(element("p", "No DOS partition table: the image is read as one volume."));
    return node;
  }
  const table = element("table", undefined, { id: "partition-table" });
  table.append(
    element("caption", `DOS partition table, disk identifier ${report.table.partitiontable.id}`),
  );
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
      String(v.size),
      String(v.offset),
      String(v.length),
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

function volumeName(number: number): string {
  return number === 0 ? "Whole disk" : `Partition ${number}`;
}

/** What a volume without a readable ext2/3/4 filesystem holds, in words. */
function contentText(v: VolumeReport): string {
  if (v.content === "empty") return "No filesystem (its first sectors are zeros).";
  if (v.content && v.content !== "unknown") return `No ext2/3/4 filesystem: ${v.content}.`;
  return "No ext2/3/4 filesystem.";
}

function filesystemsSection(report: DiskReport): HTMLElement {
  const node = section("filesystems", "Filesystems");
  for (const v of report.volumes) {
    if (v.kind === "extended") continue;
    const item = element("article", undefined, { "data-partition": String(v.number) });
    item.append(element("h3", volumeName(v.number)));
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
      if (v.problem) item.append(element("p", `Cannot be read: ${v.problem}`));
    } else {
      item.append(element("p", contentText(v)));
    }
    node.append(item);
  }
  return node;
}

function bootSection(report: DiskReport): HTMLElement {
  const b = report.boot;
  const node = section("boot", "Boot code");
  const pairs: [string, string][] = [
    ["Boot code", bootCodeName(b.bootCode)],
    ["Boot signature (0x55AA)", b.bootSignature ? "present" : "missing"],
  ];
  const core = b.grub?.core;
  if (core) {
    pairs.push([
      "GRUB core.img",
      `sector ${core.sector}, ${core.sectors} sectors; Reed-Solomon: ${core.integrity}${core.problem ? ` (${core.problem})` : ""}`,
    ]);
  }
  if (b.prefix) pairs.push(["GRUB prefix", b.prefix.prefix]);
  else if (b.prefixProblem) pairs.push(["GRUB prefix", `cannot be read (${b.prefixProblem})`]);
  if (b.grubLegacy) pairs.push(["GRUB stage2", `sector ${b.grubLegacy.stage2Sector}`]);
  node.append(facts(pairs));
  return node;
}

const MENU_COLUMNS = ["Entry", "Title", "Kernel", "Initrd", "Arguments"] as const;

function menuArticle(m: MenuReport): HTMLElement {
  const item = element("article", undefined, {
    "data-partition": String(m.partition),
    "data-config": m.config,
  });
  const kind = m.kind === "grub2" ? "GRUB 2" : "GRUB Legacy";
  item.append(element("h3", `${volumeName(m.partition)}: ${m.config}`));
  const pairs: [string, string][] = [
    ["Kind", kind],
    ["pygrub", m.pygrub ? "the menu pygrub reads" : "not read by pygrub"],
  ];
  if (m.default !== undefined) pairs.push(["Default entry", String(m.default)]);
  if (m.problem) pairs.push(["Cannot be parsed", m.problem]);
  item.append(facts(pairs));
  if (m.entries.length === 0) return item;
  const table = element("table");
  const head = element("tr");
  for (const column of MENU_COLUMNS) head.append(element("th", column, { scope: "col" }));
  const thead = element("thead");
  thead.append(head);
  const body = element("tbody");
  for (const [i, e] of m.entries.entries()) {
    const row = element("tr", undefined, { "data-entry": String(i) });
    row.append(element("th", String(i), { scope: "row" }));
    for (const cell of [e.title, e.kernel ?? "(none)", e.initrd ?? "", e.args]) {
      row.append(element("td", cell));
    }
    body.append(row);
  }
  table.append(thead, body);
  item.append(table);
  return item;
}

function menusSection(report: DiskReport): HTMLElement {
  const node = section("menus", "Boot menus");
  if (report.menus.length === 0) {
    node.append(element("p", "None: no grub.cfg or menu.lst found."));
  }
  for (const m of report.menus) node.append(menuArticle(m));
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

/** The report as `bigfile inspect` orders it: disk, table, filesystems, boot code, menus, checks. */
export function renderReport(report: DiskReport, name: string, format: string): HTMLElement[] {
  return [
    geometrySection(report, name, format),
    tableSection(report),
    filesystemsSection(report),
    bootSection(report),
    menusSection(report),
    checksSection(report),
  ];
}
