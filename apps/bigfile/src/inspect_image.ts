import { resolve } from "node:path";
import type { BlockDevice } from "@bigfile/blockdev";
import { type DiskGeometry, geometryOf } from "@bigfile/chs-geometry";
import { decodeSuperblock, type FilesystemReader, formatUuid } from "@bigfile/ext3fs";
import { type BootInspection, inspectBoot } from "@bigfile/grub-mbr";
import {
  type DiskTable,
  formatFdiskListing,
  type Partition,
  partitionTypeName,
  readPartitions,
  type SfdiskJson,
  toSfdiskJson,
  validateTable,
} from "@bigfile/mbr";
import { type GrubPrefix, readGrubPrefix } from "./_grub_prefix.ts";
import { openDisk } from "./_open_disk.ts";
import { isRegularFile, openVolume } from "./_volumes.ts";
import { bootVolumes } from "./boot_files.ts";
import {
  BOOT_CONFIG_PATHS,
  type GrubMenuEntry,
  type GrubMenuKind,
  parseGrubMenu,
} from "./grub_menu.ts";

/** How bad a finding of {@linkcode inspectImage} is: errors make `bigfile inspect` exit 1. */
export type CheckLevel = "error" | "warning";

/** One finding of the consistency checks. */
export interface InspectCheck {
  level: CheckLevel;
  /** A stable name: `fs-larger-than-partition`, `fs-smaller-than-partition`, `table`, `bootable-empty`, `grub-prefix`, `grub-core`, `missing-boot-file`, `menu`, `filesystem`. */
  code: string;
  message: string;
  /** The partition concerned (0: the whole disk). */
  partition?: number;
}

/** An ext2/3/4 filesystem's summary from its superblock. */
export interface FilesystemSummary {
  type: "ext2" | "ext3" | "ext4";
  blockCount: number;
  blockSize: number;
  /** blockCount x blockSize. */
  bytes: number;
  label: string;
  uuid: string;
  freeBlocks: number;
  /** freeBlocks x blockSize. */
  freeBytes: number;
  inodeCount: number;
  freeInodes: number;
  /** `clean`, or `not clean` (mounted, or not cleanly unmounted). */
  state: string;
}

/** A partition (or the whole disk, number 0) and what it holds. */
export interface PartitionReport {
  number: number;
  kind: Partition["kind"] | "disk";
  /** First sector and length in sectors. */
  start: number;
  size: number;
  /** Byte offset and length. */
  offset: number;
  length: number;
  type: number;
  typeName: string;
  bootable: boolean;
  /** The ext2/3/4 filesystem, when there is one. */
  filesystem?: FilesystemSummary;
  /** What else it holds (`vfat`, `swap`, `empty`, `unknown`, ...) when no ext filesystem. */
  content?: string;
  /** Why the filesystem could not be read, when its superblock was found but the rest failed. */
  problem?: string;
}

/** A bootloader menu found in a filesystem. */
export interface MenuReport {
  partition: number;
  /** The file's path inside the filesystem. */
  config: string;
  kind: GrubMenuKind;
  /** Whether this is the file pygrub would boot from. */
  pygrub: boolean;
  default?: number;
  entries: GrubMenuEntry[];
  /** Why the file could not be parsed. */
  problem?: string;
}

/** The boot code in sector 0 (grub-mbr's inspection) and where GRUB's core.img looks for its files. */
export interface BootReport extends BootInspection {
  /** GRUB 2: the prefix compiled into core.img. */
  prefix?: GrubPrefix;
  /** GRUB 2: why the prefix could not be read. */
  prefixProblem?: string;
}

/** What {@linkcode inspectImage} found. */
export interface ImageInspection {
  image: string;
  /** The image's size in bytes. */
  bytes: number;
  /** The CHS geometry fdisk gives a disk of this size. */
  geometry: DiskGeometry;
  /** The DOS partition table in the shape of `sfdisk --json`, or null without one. */
  table: SfdiskJson | null;
  /** The table as `mbr print` (and `fdisk -l`) lists it; "" without one. */
  listing: string;
  partitions: PartitionReport[];
  boot: BootReport;
  menus: MenuReport[];
  checks: InspectCheck[];
  /** No check at the `error` level. */
  ok: boolean;
}

/** Options for {@linkcode inspectImage}. */
export interface InspectImageOptions {
  /** Directory a relative `image` is resolved against. @default process.cwd() */
  cwd?: string;
  /** The device name used in the listing. @default image as given */
  device?: string;
}

const EXT3_INCOMPAT = 0x0002 | 0x0004 | 0x0010; // filetype, recover, meta_bg
const EXT2_INCOMPAT = 0x0002 | 0x0010;
const EXT23_RO_COMPAT = 0x0001 | 0x0002 | 0x0004; // sparse_super, large_file, btree_dir
const HAS_JOURNAL = 0x0004;

/** The filesystem type as blkid names it. */
function extType(compat: number, incompat: number, roCompat: number): FilesystemSummary["type"] {
  if (roCompat & ~EXT23_RO_COMPAT) return "ext4";
  if (compat & HAS_JOURNAL) return incompat & ~EXT3_INCOMPAT ? "ext4" : "ext3";
  return incompat & ~EXT2_INCOMPAT ? "ext4" : "ext2";
}

function text(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}

/** Reads an ext2/3/4 superblock at `offset`, or undefined when there is none. */
async function readExtSummary(
  disk: BlockDevice,
  offset: number,
): Promise<FilesystemSummary | undefined> {
  if (offset + 2048 > disk.size) return undefined;
  const bytes = await disk.read(offset + 1024, 1024);
  if (bytes[56] !== 0x53 || bytes[57] !== 0xef) return undefined;
  const sb = decodeSuperblock(bytes);
  if (sb.logBlockSize > 6) return undefined;
  const blockSize = 1024 << sb.logBlockSize;
  return {
    type: extType(sb.featureCompat, sb.featureIncompat, sb.featureRoCompat),
    blockCount: sb.blocksCount,
    blockSize,
    bytes: sb.blocksCount * blockSize,
    label: text(sb.volumeName),
    uuid: formatUuid(sb.uuid),
    freeBlocks: sb.freeBlocksCount,
    freeBytes: sb.freeBlocksCount * blockSize,
    inodeCount: sb.inodesCount,
    freeInodes: sb.freeInodesCount,
    state: sb.state & 1 ? "clean" : "not clean",
  };
}

function hasText(bytes: Uint8Array, at: number, ascii: string): boolean {
  if (at + ascii.length > bytes.length) return false;
  for (let i = 0; i < ascii.length; i++) if (bytes[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/** Names the content of a volume without an ext filesystem, as blkid would. */
async function sniffContent(disk: BlockDevice, offset: number, length: number): Promise<string> {
  const size = Math.min(length, disk.size - offset, 0x10048);
  if (size <= 0) return "empty";
  const head = await disk.read(offset, size);
  if (head.every((b) => b === 0)) return "empty";
  if (hasText(head, 3, "NTFS    ")) return "ntfs";
  if (hasText(head, 0x36, "FAT") || hasText(head, 0x52, "FAT32")) return "vfat";
  if (hasText(head, 4086, "SWAPSPACE2") || hasText(head, 4086, "SWAP-SPACE")) return "swap";
  if (hasText(head, 0, "XFSB")) return "xfs";
  if (hasText(head, 0, "LUKS\xba\xbe")) return "crypto_LUKS";
  if (hasText(head, 0x218, "LVM2 001")) return "LVM2_member";
  if (hasText(head, 0x10040, "_BHRfS_M")) return "btrfs";
  if (hasText(head, 0x8001, "CD001")) return "iso9660";
  return "unknown";
}

function describeBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${Math.round(v * 10) / 10} ${units[u]}`;
}

const lower = (message: string) => message.charAt(0).toLowerCase() + message.slice(1);

const where = (n: number) => (n === 0 ? "the whole disk" : `partition ${n}`);

/**
 * Inspects a raw disk image: its CHS geometry, the DOS partition table, each
 * partition's ext2/3/4 filesystem (type, blocks, label, UUID, free space),
 * the boot code (GRUB 2's boot.img and core.img, with the prefix compiled
 * into core.img), the GRUB menus (grub.cfg, menu.lst) in each filesystem,
 * and whether it all agrees. Errors (`ok` false): a filesystem larger than
 * its partition ("either the partition table or the filesystem's superblock
 * is lying"), an invalid table, a bootable partition with no filesystem, a
 * core.img whose prefix points at a partition without that directory, a menu
 * naming a kernel or initrd that is not there, a damaged core.img. Warnings:
 * space left unused at the end of a partition, menu lines pygrub misreads.
 *
 * @param image Path of a raw disk image.
 * @returns The report; nothing is written.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { inspectImage } from "@bigfile/bigfile";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { build } from "@bigfile/bigfile";
 * await mkdir("rootfs/etc", { recursive: true });
 * await writeFile("rootfs/etc/hostname", "demo\n");
 * await writeFile("vmlinuz", "not a real kernel\n");
 * await writeFile("initrd.img", "not a real initrd\n");
 * await build({ output: "disk.img", size: "auto", rootfs: ["rootfs/"], kernel: "vmlinuz", initrd: "initrd.img" });
 * const report = await inspectImage("disk.img");
 * for (const check of report.checks) console.log(`${check.level}: ${check.message}`);
 * assert.equal(report.ok, true); // the CLI exits 1 when not
 * ```
 */
export async function inspectImage(
  image: string,
  options: InspectImageOptions = {},
): Promise<ImageInspection> {
  const disk = await openDisk(resolve(options.cwd ?? process.cwd(), image));
  try {
    return await inspectDevice(disk, image, options.device ?? image);
  } finally {
    await disk.close();
  }
}

async function inspectDevice(
  disk: BlockDevice,
  image: string,
  device: string,
): Promise<ImageInspection> {
  const checks: InspectCheck[] = [];
  const add = (level: CheckLevel, code: string, message: string, partition?: number) =>
    checks.push({ level, code, message, ...(partition !== undefined && { partition }) });
  const geometry = geometryOf(disk.size);

  let table: DiskTable | undefined;
  if (disk.size >= 512) {
    try {
      table = await readPartitions(disk);
    } catch (error) {
      const message = (error as Error).message;
      if (!/boot signature/.test(message)) add("error", "table", message);
    }
  }
  if (table?.gpt) {
    add("warning", "table", "the disk is partitioned with GPT; only its protective MBR was read");
  }
  if (table) {
    const report = validateTable(table, { diskSize: disk.size });
    for (const e of report.errors) add("error", "table", lower(e.message));
    for (const w of report.warnings) add("warning", "table", lower(w.message), w.partition);
  }

  const partitions: PartitionReport[] = [];
  const volumes =
    table && table.partitions.length > 0
      ? table.partitions.map((p) => ({ p, number: p.number }))
      : [{ p: undefined, number: 0 }];
  const readers = new Map<number, FilesystemReader>();
  for (const { p, number } of volumes) {
    const ss = table?.sectorSize ?? 512;
    const report: PartitionReport = p
      ? {
          number,
          kind: p.kind,
          start: p.start,
          size: p.size,
          offset: p.start * ss,
          length: p.size * ss,
          type: p.type,
          typeName: partitionTypeName(p.type),
          bootable: p.bootable,
        }
      : {
          number: 0,
          kind: "disk",
          start: 0,
          size: Math.floor(disk.size / 512),
          offset: 0,
          length: disk.size,
          type: 0,
          typeName: "whole disk",
          bootable: false,
        };
    partitions.push(report);
    if (report.kind === "extended" || report.offset >= disk.size || report.length === 0) continue;
    const fs = await readExtSummary(disk, report.offset);
    if (!fs) {
      report.content = await sniffContent(disk, report.offset, report.length);
      if (report.bootable) {
        add(
          report.content === "empty" ? "error" : "warning",
          "bootable-empty",
          report.content === "empty"
            ? `${where(number)} is marked bootable but holds no filesystem (its first sectors are zeros)`
            : `${where(number)} is marked bootable but holds no ext2/3/4 filesystem (${report.content})`,
          number,
        );
      }
      continue;
    }
    report.filesystem = fs;
    if (fs.bytes > report.length) {
      add(
        "error",
        "fs-larger-than-partition",
        `${where(number)}: the filesystem's superblock says ${fs.blockCount} blocks of ${fs.blockSize} bytes (${fs.bytes} bytes) but the partition table gives ${report.size} sectors (${report.length} bytes), ${fs.bytes - report.length} bytes too few: either the partition table or the filesystem's superblock is lying`,
        number,
      );
    } else if (report.length - fs.bytes >= fs.blockSize) {
      add(
        "warning",
        "fs-smaller-than-partition",
        `${where(number)}: the filesystem ends ${report.length - fs.bytes} bytes before the partition does (${fs.bytes} of ${report.length} bytes used): space wasted at the end (grow it with resize2fs)`,
        number,
      );
    }
    try {
      readers.set(number, await openVolume(disk, { offset: report.offset, length: report.length }));
    } catch (error) {
      report.problem = (error as Error).message;
      add("error", "filesystem", `${where(number)}: ${report.problem}`, number);
    }
  }

  const boot: BootReport = await inspectBoot(disk);
  if (boot.grub) await checkGrubCore(disk, boot, partitions, readers, add);

  const menus = await readMenus(readers, add);
  // pygrub's choice: the first primary volume (in table order) with a usable menu.
  let pygrubVolumes: number[] = [];
  try {
    pygrubVolumes = (await bootVolumes(disk)).map((v) => v.partition);
  } catch {}
  // pygrub reads the first file it finds on a volume; when that fails, it goes to the next volume.
  for (const n of pygrubVolumes) {
    const menu = menus.find((m) => m.partition === n);
    if (menu && !menu.problem && menu.entries.length > 0) {
      menu.pygrub = true;
      break;
    }
  }

  return {
    image,
    bytes: disk.size,
    geometry,
    table: table && !table.gpt ? toSfdiskJson(table, device) : null,
    listing: table && !table.gpt ? formatFdiskListing(table, { device, diskSize: disk.size }) : "",
    partitions,
    boot,
    menus,
    checks,
    ok: !checks.some((c) => c.level === "error"),
  };
}

type AddCheck = (level: CheckLevel, code: string, message: string, partition?: number) => void;

async function checkGrubCore(
  disk: BlockDevice,
  boot: BootReport,
  partitions: PartitionReport[],
  readers: Map<number, FilesystemReader>,
  add: AddCheck,
): Promise<void> {
  const core = boot.grub?.core;
  if (!core) return;
  if (core.integrity === "unreadable") {
    add(
      "error",
      "grub-core",
      `GRUB's boot.img loads core.img from sector ${core.sector}, which holds none${core.problem ? ` (${core.problem})` : ""}`,
    );
    return;
  }
  if (core.integrity === "damaged") {
    add(
      "error",
      "grub-core",
      `GRUB's core.img at sector ${core.sector} is damaged beyond what its Reed-Solomon parity repairs (${core.damagedBytes} bytes)`,
    );
  }
  try {
    const prefix = await readGrubPrefix(disk, core);
    if (prefix) boot.prefix = prefix;
  } catch (error) {
    boot.prefixProblem = (error as Error).message;
    add(
      "warning",
      "grub-prefix",
      `cannot read the prefix in GRUB's core.img: ${boot.prefixProblem}`,
    );
    return;
  }
  const prefix = boot.prefix;
  if (!prefix || prefix.partition === undefined) return;
  const n = prefix.partition;
  const target = partitions.find((p) => p.number === n && p.kind !== "disk");
  const head = `GRUB's core.img looks for its modules and grub.cfg in ${prefix.prefix}`;
  if (!target) {
    add("error", "grub-prefix", `${head}, but the disk has no partition ${n}`);
    return;
  }
  const reader = readers.get(n);
  if (!reader) {
    if (target.content && target.content !== "empty" && target.content !== "unknown") {
      add(
        "warning",
        "grub-prefix",
        `${head}: partition ${n} holds ${target.content}, which bigfile cannot look into`,
        n,
      );
    } else {
      add("error", "grub-prefix", `${head}, but partition ${n} holds no filesystem`, n);
    }
    return;
  }
  let isDirectory = false;
  try {
    isDirectory = (await reader.stat(prefix.path)).type === "directory";
  } catch {}
  if (!isDirectory) {
    add("error", "grub-prefix", `${head}, but partition ${n} has no ${prefix.path}`, n);
  }
}

async function readMenus(
  readers: Map<number, FilesystemReader>,
  add: AddCheck,
): Promise<MenuReport[]> {
  const menus: MenuReport[] = [];
  for (const [n, reader] of readers) {
    for (const c of BOOT_CONFIG_PATHS) {
      if (!(await isRegularFile(reader, c.path))) continue;
      const report: MenuReport = {
        partition: n,
        config: c.path,
        kind: c.kind,
        pygrub: false,
        entries: [],
      };
      menus.push(report);
      const name = `${where(n)}: ${c.path}`;
      try {
        const menu = parseGrubMenu(
          new TextDecoder().decode(await reader.readFile(c.path, { maxBytes: 1 << 20 })),
          c.kind,
        );
        report.default = menu.default;
        report.entries = menu.entries;
        for (const w of menu.warnings) add("warning", "menu", `${name}: ${w}`, n);
        if (menu.entries.length === 0) add("warning", "menu", `${name} has no menu entries`, n);
      } catch (error) {
        report.problem = (error as Error).message;
        add("error", "menu", `${name}: ${report.problem}`, n);
        continue;
      }
      for (const [i, entry] of report.entries.entries()) {
        const label = `${name} entry ${i} '${entry.title}'`;
        if (!entry.kernel) {
          add("warning", "menu", `${label} names no kernel`, n);
          continue;
        }
        for (const [what, path] of [
          ["kernel", entry.kernel],
          ["initrd", entry.initrd],
        ] as const) {
          if (path !== undefined && !(await isRegularFile(reader, path))) {
            add(
              "error",
              "missing-boot-file",
              `${label} names the ${what} ${path}, which is not a file in ${where(n)}`,
              n,
            );
          }
        }
      }
    }
  }
  return menus;
}

const BOOT_CODE_NAMES: Record<BootInspection["bootCode"], string> = {
  grub2: "GRUB 2 (boot.img)",
  "grub-legacy": "GRUB Legacy (stage1)",
  syslinux: "syslinux MBR",
  other: "other boot code",
  none: "none (zeros)",
};

/**
 * The report of {@linkcode inspectImage} as text for people: geometry,
 * table, filesystems, boot code, menus, then the checks.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatInspection, inspectImage } from "@bigfile/bigfile";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { build } from "@bigfile/bigfile";
 * await mkdir("rootfs/etc", { recursive: true });
 * await writeFile("rootfs/etc/hostname", "demo\n");
 * await writeFile("vmlinuz", "not a real kernel\n");
 * await writeFile("initrd.img", "not a real initrd\n");
 * await build({ output: "disk.img", size: "auto", rootfs: ["rootfs/"], kernel: "vmlinuz", initrd: "initrd.img" });
 * const text = formatInspection(await inspectImage("disk.img"));
 * assert.match(text, /ok: table, filesystems and boot files agree/);
 * ```
 */
export function formatInspection(report: ImageInspection): string {
  const g = report.geometry;
  const out: string[] = [];
  out.push(`${report.image}: ${report.bytes} bytes (${describeBytes(report.bytes)})`);
  out.push(
    `Geometry: ${g.heads} heads, ${g.sectorsPerTrack} sectors/track, ${g.cylinders} cylinders of ${g.cylinderBytes} bytes${g.lostBytes ? ` (${g.lostBytes} bytes past the last whole cylinder)` : ""}`,
  );
  out.push("");
  if (report.listing) out.push(report.listing.trimEnd());
  else out.push("No DOS partition table.");
  out.push("");
  out.push("Filesystems:");
  for (const p of report.partitions) {
    const name = p.number === 0 ? "  whole disk" : `  partition ${p.number}`;
    if (p.kind === "extended") {
      out.push(`${name}: extended partition (holds the logical ones)`);
    } else if (p.filesystem) {
      const f = p.filesystem;
      out.push(
        `${name}: ${f.type}, ${f.blockCount} blocks of ${f.blockSize} bytes (${f.bytes} bytes), label ${f.label ? `'${f.label}'` : "none"}, UUID ${f.uuid}, ${describeBytes(f.freeBytes)} free, ${f.state}${p.problem ? `; cannot be read: ${p.problem}` : ""}`,
      );
    } else {
      out.push(`${name}: ${p.content === "empty" ? "no filesystem (zeros)" : (p.content ?? "-")}`);
    }
  }
  out.push("");
  const b = report.boot;
  out.push(
    `Boot code: ${BOOT_CODE_NAMES[b.bootCode]}${b.bootSignature ? "" : ", no 0x55AA boot signature"}`,
  );
  if (b.grub) {
    const c = b.grub.core;
    out.push(
      `  core.img at sector ${c.sector}, ${c.sectors} sectors; Reed-Solomon: ${c.integrity}${c.problem ? ` (${c.problem})` : ""}`,
    );
    if (b.prefix) out.push(`  prefix: ${b.prefix.prefix}`);
    else if (b.prefixProblem) out.push(`  prefix: cannot be read (${b.prefixProblem})`);
  }
  if (b.grubLegacy) out.push(`  stage2 at sector ${b.grubLegacy.stage2Sector}`);
  out.push("");
  if (report.menus.length === 0) out.push("Boot menus: none (no grub.cfg or menu.lst found)");
  else out.push("Boot menus:");
  for (const m of report.menus) {
    const kind = m.kind === "grub2" ? "GRUB 2" : "GRUB Legacy";
    out.push(
      `  ${where(m.partition)} ${m.config} (${kind}${m.pygrub ? ", what pygrub reads" : ""})${m.default !== undefined ? `, default ${m.default}` : ""}${m.problem ? `: ${m.problem}` : ""}`,
    );
    for (const [i, e] of m.entries.entries()) {
      out.push(
        `    ${i} '${e.title}': kernel ${e.kernel ?? "(none)"}${e.initrd ? `, initrd ${e.initrd}` : ""}${e.args ? `, args ${e.args}` : ""}`,
      );
    }
  }
  out.push("");
  const errors = report.checks.filter((c) => c.level === "error").length;
  const warnings = report.checks.length - errors;
  out.push("Checks:");
  for (const c of report.checks) out.push(`  ${c.level}: ${c.message}`);
  out.push(
    errors === 0
      ? `  ok${warnings ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : ": table, filesystems and boot files agree"}`
      : `  ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`,
  );
  return `${out.join("\n")}\n`;
}
