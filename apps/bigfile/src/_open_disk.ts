import { FileDevice } from "@bigfile/blockdev/node";
import { type ImageDevice, openImage } from "@bigfile/vdisk";
import { nodeCodecs } from "@bigfile/vdisk/node";

/**
 * The disk inside an image file of any format vdisk reads (raw, qcow2, VHD,
 * VMDK), read-only; closing it closes the file.
 */
export async function openDisk(path: string): Promise<ImageDevice> {
  const file = await FileDevice.open(path, { readOnly: true });
  try {
    // node:zlib's codecs: zstd clusters where Node has zstd, and no stream setup per cluster.
    return await openImage(file, { codecs: nodeCodecs });
  } catch (error) {
    await file.close();
    throw error;
  }
}
