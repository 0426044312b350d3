import {
  type ImageInspection,
  inspectDevice,
  type PartitionReport,
} from "@bigfile/bigfile/inspect";
import type { BlockDevice } from "@bigfile/blockdev";
import type { FilesystemReader } from "@bigfile/ext3fs";

/** A partition (or the whole disk, number 0) as `bigfile inspect` reports it, with its open filesystem. */
export interface VolumeReport extends PartitionReport {
  /** The ext2/3/4 filesystem, open for the file tree. */
  reader?: FilesystemReader;
}

/** What `bigfile inspect --json` prints, and each volume's open filesystem for browsing. */
export interface DiskReport extends ImageInspection {
  /** `partitions`, each with its reader when it holds a filesystem that opened. */
  volumes: VolumeReport[];
}

/**
 * Inspects a disk image read through any `BlockDevice` with bigfile's own
 * inspection (`@bigfile/bigfile/inspect`, the code behind `bigfile inspect`):
 * geometry, table, filesystems, boot code and GRUB's prefix, GRUB's menus,
 * and the same checks. Reads metadata only: a few sectors per volume.
 *
 * @param disk The image, read only.
 * @param name The image's name in the report. @default "disk"
 */
export async function inspectDisk(disk: BlockDevice, name = "disk"): Promise<DiskReport> {
  if (disk.size < 512) {
    throw new RangeError(
      `the image holds ${disk.size} bytes, less than one 512-byte sector: choose a disk image`,
    );
  }
  const readers = new Map<number, FilesystemReader>();
  const report = await inspectDevice(disk, {
    image: name,
    onFilesystem: (partition, reader) => readers.set(partition, reader),
  });
  const volumes = report.partitions.map((p): VolumeReport => {
    const reader = readers.get(p.number);
    return reader ? { ...p, reader } : p;
  });
  return { ...report, volumes };
}
