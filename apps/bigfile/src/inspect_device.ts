import type { BlockDevice } from "@bigfile/blockdev";
import { geometryOf } from "@bigfile/chs-geometry";
import { decodeSuperblock, type FilesystemReader, formatUuid } from "@bigfile/ext3fs";
import { inspectBoot } from "@bigfile/grub-mbr";
import {
  type DiskTable,
  formatFdiskListing,
  partitionTypeName,
  readPartitions,
  toSfdiskJson,
  validateTable,
} from "@bigfile/mbr";
import { checkGrubCore, readMenus } from "./_grub_checks.ts";
import { sniffContent } from "./_sniff_content.ts";
import { volumeName } from "./_volume_name.ts";
import { openVolume } from "./_volumes.ts";
import { bootVolumes } from "./boot_volumes.ts";
import { extFilesystemType } from "./ext_filesystem_type.ts";
import type {
  BootReport,
  CheckLevel,
  FilesystemSummary,
  ImageInspection,
  InspectCheck,
  PartitionReport,
} from "./image_inspection.ts";

/** Options for {@linkcode inspectDevice}. */
export interface InspectDeviceOptions {
  /** The image's name, as the report's `image` and the first line of the text report. @default "disk" */
  image?: string;
  /** The device name used in the listing and the sfdisk JSON. @default options.image */
  device?: string;
  /**
   * Called with each ext2/3/4 filesystem opened, by partition number (0: the
   * whole disk), for callers that go on to browse it (the browser page's file tree).
   */
  onFilesystem?: (partition: number, reader: FilesystemReader) => void;
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
    type: extFilesystemType(sb),
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

/**
 * Inspects a disk image given as any `BlockDevice` (a file, a `Blob`, a VHD
 * or qcow2 read through vdisk, memory), with no Node built-in: its CHS
 * geometry, the DOS partition table, each partition's ext2/3/4 filesystem
 * (type, blocks, label, UUID, free space), the boot code (GRUB 2's boot.img
 * and core.img, with the prefix compiled into core.img), the GRUB menus
 * (grub.cfg, menu.lst) in each filesystem and the one pygrub would read, and
 * whether it all agrees. Errors (`ok` false): a filesystem larger than its
 * partition ("either the partition table or the filesystem's superblock is
 * lying"), an invalid table, a bootable partition with no filesystem, a
 * core.img whose prefix points at a partition without that directory, a menu
 * naming a kernel or initrd that is not there, a damaged core.img. Warnings:
 * space left unused at the end of a partition, menu lines pygrub misreads.
 * Reads metadata only: a few KiB per volume, whatever the image's size.
 *
 * @param disk The image, read only.
 * @param options The image's name and a hook for the filesystems opened.
 * @returns The report `bigfile inspect --json` prints; nothing is written.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryDevice } from "@bigfile/blockdev";
 * import { inspectDevice } from "@bigfile/bigfile/inspect";
 * const report = await inspectDevice(new MemoryDevice(new Uint8Array(1 << 20)), { image: "zeros.img" });
 * assert.equal(report.table, null); // no 0x55AA: no partition table
 * assert.equal(report.partitions[0]?.content, "empty");
 * assert.equal(report.ok, true);
 * ```
 */
export async function inspectDevice(
  disk: BlockDevice,
  options: InspectDeviceOptions = {},
): Promise<ImageInspection> {
  const image = options.image ?? "disk";
  const device = options.device ?? image;
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
            ? `${volumeName(number)} is marked bootable but holds no filesystem (its first sectors are zeros)`
            : `${volumeName(number)} is marked bootable but holds no ext2/3/4 filesystem (${report.content})`,
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
        `${volumeName(number)}: the filesystem's superblock says ${fs.blockCount} blocks of ${fs.blockSize} bytes (${fs.bytes} bytes) but the partition table gives ${report.size} sectors (${report.length} bytes), ${fs.bytes - report.length} bytes too few: either the partition table or the filesystem's superblock is lying`,
        number,
      );
    } else if (report.length - fs.bytes >= fs.blockSize) {
      add(
        "warning",
        "fs-smaller-than-partition",
        `${volumeName(number)}: the filesystem ends ${report.length - fs.bytes} bytes before the partition does (${fs.bytes} of ${report.length} bytes used): space wasted at the end (grow it with resize2fs)`,
        number,
      );
    }
    try {
      const reader = await openVolume(disk, { offset: report.offset, length: report.length });
      readers.set(number, reader);
      options.onFilesystem?.(number, reader);
    } catch (error) {
      report.problem = (error as Error).message;
      add("error", "filesystem", `${volumeName(number)}: ${report.problem}`, number);
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

const lower = (message: string) => message.charAt(0).toLowerCase() + message.slice(1);
