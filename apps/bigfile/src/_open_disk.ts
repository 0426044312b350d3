import { FileDevice } from "@bigfile/blockdev/node";
import { type ImageDevice, openImage } from "@bigfile/vdisk";

/**
 * The disk inside an image file of any format vdisk reads (raw, qcow2, VHD,
 * VMDK), read-only; closing it closes the file.
 */
export async function openDisk(path: string): Promise<ImageDevice> {
  const file = await FileDevice.open(path, { readOnly: true });
  try {
    return await openImage(file);
  } catch (error) {
    await file.close();
    throw error;
  }
}
