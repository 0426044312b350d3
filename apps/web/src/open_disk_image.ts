import type { BlockDevice } from "@bigfile/blockdev";
import { detectFormat, type ImageFormat, openImage } from "@bigfile/vdisk";

/** The disk inside an image file, and the container it came in. */
export interface DiskImage {
  disk: BlockDevice;
  format: ImageFormat;
}

/**
 * Opens a raw, qcow2, VHD or VMDK image with vdisk's core: compressed qcow2
 * clusters and VMDK grains inflate through the browser's DecompressionStream,
 * one at a time. A raw image is the file itself (its reads are the page's
 * counted reads, with no layer between).
 */
export async function openDiskImage(file: BlockDevice): Promise<DiskImage> {
  const format = await detectFormat(file);
  if (format === "raw") return { disk: file, format };
  try {
    return { disk: await openImage(file, { format }), format };
  } catch (error) {
    // The page says "Cannot read NAME: ..." itself: keep vdisk's reason, not its prefix.
    const reason = /^Cannot read (?:qcow2|VHD|VMDK) image: (.*)$/s.exec((error as Error).message);
    if (!reason) throw error;
    throw new TypeError(`it is a ${format} image that cannot be read: ${reason[1]}`);
  }
}
