import { type BlockDevice, SliceDevice } from "@bigfile/blockdev";
import { FilesystemReader } from "@bigfile/ext3fs";

/** A byte range of a disk image that may hold a filesystem. */
export interface VolumeRange {
  offset: number;
  length: number;
}

/**
 * Opens the ext2/3/4 filesystem of a volume. When its superblock claims more
 * than the partition holds (a table shrunk under it), it is read as far as
 * the superblock says and the disk goes, as pygrub would.
 */
export async function openVolume(
  disk: BlockDevice,
  volume: VolumeRange,
): Promise<FilesystemReader> {
  let length = volume.length;
  if (volume.offset + 2048 <= disk.size) {
    const sb = await disk.read(volume.offset + 1024, 1024);
    if (sb[56] === 0x53 && sb[57] === 0xef) {
      const view = new DataView(sb.buffer, sb.byteOffset, sb.byteLength);
      const blocks = view.getUint32(4, true);
      const log = view.getUint32(24, true);
      if (log <= 6) {
        const fsBytes = blocks * (1024 << log);
        length = Math.max(length, Math.min(fsBytes, disk.size - volume.offset));
      }
    }
  }
  return FilesystemReader.open(new SliceDevice(disk, { offset: volume.offset, length }));
}

/** Whether `path` is a regular file in the filesystem (symlinks followed). */
export async function isRegularFile(reader: FilesystemReader, path: string): Promise<boolean> {
  try {
    return (await reader.stat(path)).type === "file";
  } catch {
    return false;
  }
}
