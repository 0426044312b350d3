import { type BlockDevice, FileDevice } from "@bigfile/blockdev";
import { openPartition } from "@bigfile/mbr";
import { FilesystemReader, type ReaderOptions } from "./filesystem_reader.ts";

/** Options for {@linkcode openImageFile}. */
export interface OpenImageOptions extends ReaderOptions {
  /** Read partition N (1-4 primary, 5+ logical) of a DOS-partitioned disk image. */
  partition?: number;
}

/** A filesystem opened from a file; `close()` releases the file. */
export interface OpenedImage {
  reader: FilesystemReader;
  device: BlockDevice;
  close(): Promise<void>;
}

/**
 * Opens the ext2/3/4 filesystem in an image file (read-only), or in one
 * partition of a disk image.
 *
 * @example Usage
 * ```ts
 * import { openImageFile } from "@bigfile/ext3fs";
 * const image = await openImageFile("big.img", { partition: 1 });
 * console.log(await image.reader.readdir("/boot"));
 * await image.close();
 * ```
 */
export async function openImageFile(
  path: string,
  options: OpenImageOptions = {},
): Promise<OpenedImage> {
  const file = await FileDevice.open(path, { readOnly: true });
  try {
    let device: BlockDevice = file;
    if (options.partition !== undefined) device = await openPartition(file, options.partition);
    const reader = await FilesystemReader.open(device, options);
    return { reader, device, close: () => file.close() };
  } catch (error) {
    await file.close();
    throw error;
  }
}
