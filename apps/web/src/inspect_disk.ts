import { type BlockDevice, SliceDevice } from "@bigfile/blockdev";
import { type DiskGeometry, geometryOf } from "@bigfile/chs-geometry";
import { FilesystemReader, formatUuid } from "@bigfile/ext3fs";
import { type BootInspection, inspectBoot } from "@bigfile/grub-mbr";
import {
  type DiskTable,
  formatFdiskListing,
  partitionTypeName,
  readPartitions,
  validateTable,
} from "@bigfile/mbr";
import { extFilesystemType } from "./ext_filesystem_type.ts";

/** An ext2/3/4 filesystem's summary, from the superblock the reader opened. */
export interface FilesystemSummary {
  type: "ext2" | "ext3" | "ext4";
  blockCount: number;
  blockSize: number;
  bytes: number;
  label: string;
  uuid: string;
  freeBytes: number;
  inodeCount: number;
  freeInodes: number;
  state: "clean" | "not clean";
}

/** A partition (or the whole disk, number 0) and what it holds. */
export interface VolumeReport {
  number: number;
  kind: "primary" | "extended" | "logical" | "disk";
  start: number;
  sectors: number;
  offset: number;
  bytes: number;
  type: number;
  typeName: string;
  bootable: boolean;
  filesystem?: FilesystemSummary;
  /** The open filesystem, for the file tree. */
  reader?: FilesystemReader;
  /** Why the volume's filesystem could not be read. */
  problem?: string;
}

/** A finding that `bigfile inspect` would also print. */
export interface DiskCheck {
  level: "error" | "warning";
  message: string;
}

/** What {@linkcode inspectDisk} found. */
export interface DiskReport {
  bytes: number;
  geometry: DiskGeometry;
  /** The table as `fdisk -l` lists it; "" without one. */
  listing: string;
  labelId?: number;
  volumes: VolumeReport[];
  boot: BootInspection;
  checks: DiskCheck[];
}

const EXT_MAGIC_OFFSET = 1024 + 56;

/**
 * Reads what `bigfile inspect` reports from any `BlockDevice`, with the
 * cores alone: the CHS geometry, the DOS partition table, each volume's
 * ext2/3/4 superblock (with the filesystem opened for browsing), the boot
 * code, and whether the table and the filesystems agree. Reads only
 * metadata: a few sectors per volume.
 */
export async function inspectDisk(disk: BlockDevice): Promise<DiskReport> {
  if (disk.size < 512) {
    throw new RangeError(
      `the image holds ${disk.size} bytes, less than one 512-byte sector: choose a disk image`,
    );
  }
  const checks: DiskCheck[] = [];
  let table: DiskTable | undefined;
  try {
    table = await readPartitions(disk);
  } catch (error) {
    const message = (error as Error).message;
    // No 0x55AA at all: not a partitioned disk (a bare filesystem, say), not an error.
    if (!/boot signature/.test(message)) checks.push({ level: "error", message });
  }
  if (table?.gpt) {
    checks.push({
      level: "warning",
      message: "The disk is partitioned with GPT; only its protective MBR was read",
    });
  }
  if (table) {
    const report = validateTable(table, { diskSize: disk.size });
    for (const e of report.errors) checks.push({ level: "error", message: e.message });
    for (const w of report.warnings) checks.push({ level: "warning", message: w.message });
  }

  const volumes: VolumeReport[] =
    table && table.partitions.length > 0
      ? table.partitions.map((p) => ({
          number: p.number,
          kind: p.kind,
          start: p.start,
          sectors: p.size,
          offset: p.start * table.sectorSize,
          bytes: p.size * table.sectorSize,
          type: p.type,
          typeName: partitionTypeName(p.type),
          bootable: p.bootable,
        }))
      : [
          {
            number: 0,
            kind: "disk",
            start: 0,
            sectors: Math.floor(disk.size / 512),
            offset: 0,
            bytes: disk.size,
            type: 0,
            typeName: "whole disk",
            bootable: false,
          },
        ];
  for (const volume of volumes) {
    if (volume.kind === "extended") continue;
    await openFilesystem(disk, volume, checks);
  }

  return {
    bytes: disk.size,
    geometry: geometryOf(disk.size),
    listing: table && !table.gpt ? formatFdiskListing(table, { diskSize: disk.size }) : "",
    ...(table && { labelId: table.labelId }),
    volumes,
    boot: await inspectBoot(disk),
    checks,
  };
}

async function openFilesystem(
  disk: BlockDevice,
  volume: VolumeReport,
  checks: DiskCheck[],
): Promise<void> {
  if (volume.offset + 2048 > Math.min(volume.offset + volume.bytes, disk.size)) return;
  const magic = await disk.read(volume.offset + EXT_MAGIC_OFFSET, 2);
  if (magic[0] !== 0x53 || magic[1] !== 0xef) return;
  const where = volume.number === 0 ? "The whole disk" : `Partition ${volume.number}`;
  try {
    // Up to the disk's end, not the partition's: a filesystem larger than its
    // partition (a table shrunk under it) is still read as far as the disk goes,
    // as pygrub and bigfile inspect do; the check below names the disagreement.
    const reader = await FilesystemReader.open(
      new SliceDevice(disk, { offset: volume.offset, length: disk.size - volume.offset }),
    );
    const sb = reader.superblock;
    const fs: FilesystemSummary = {
      type: extFilesystemType(sb),
      blockCount: sb.blocksCount,
      blockSize: sb.blockSize,
      bytes: sb.blocksCount * sb.blockSize,
      label: nulTerminated(sb.volumeName),
      uuid: formatUuid(sb.uuid),
      freeBytes: sb.freeBlocksCount * sb.blockSize,
      inodeCount: sb.inodesCount,
      freeInodes: sb.freeInodesCount,
      state: sb.state & 1 ? "clean" : "not clean",
    };
    volume.filesystem = fs;
    volume.reader = reader;
    if (fs.bytes > volume.bytes) {
      checks.push({
        level: "error",
        message: `${where}: the filesystem's superblock says ${fs.bytes} bytes but the partition table gives ${volume.bytes}: one of them is lying`,
      });
    } else if (volume.bytes - fs.bytes >= fs.blockSize) {
      checks.push({
        level: "warning",
        message: `${where}: the filesystem ends ${volume.bytes - fs.bytes} bytes before the partition does`,
      });
    }
  } catch (error) {
    volume.problem = (error as Error).message;
    checks.push({ level: "error", message: `${where}: ${volume.problem}` });
  }
}

function nulTerminated(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}
