import type { BlockDevice } from "@bigfile/blockdev";
import { VhdDevice } from "@bigfile/vdisk/vhd-device";

/** The disk inside an image file, and the container it came in. */
export interface DiskImage {
  disk: BlockDevice;
  format: "raw" | "vhd" | "vhd-fixed";
}

function startsWith(bytes: Uint8Array, ascii: string): boolean {
  for (let i = 0; i < ascii.length; i++) if (bytes[i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/**
 * Opens a raw or VHD image; refuses qcow2 and VMDK in one line. vdisk's
 * `detectFormat` and `openImage` share a module with the qcow2 and VMDK
 * readers, which inflate clusters with `node:zlib`, so the page looks at the
 * magic numbers itself and opens VHD through vdisk's Node-free `vhd-device`.
 */
export async function openDiskImage(file: BlockDevice): Promise<DiskImage> {
  if (file.size < 512) return { disk: file, format: "raw" };
  const head = await file.read(0, 512);
  const refuse = (format: string): never => {
    throw new TypeError(
      `it is a ${format} image, and the page reads raw and VHD images only: convert it with vdisk convert --to raw`,
    );
  };
  if (startsWith(head, "QFI\xfb")) refuse("qcow2");
  if (startsWith(head, "KDMV") || startsWith(head, "# Disk DescriptorFile")) refuse("VMDK");
  const foot = await file.read(file.size - 512, 512);
  if (startsWith(foot, "conectix") || startsWith(head, "conectix")) {
    const disk = await VhdDevice.open(file);
    return { disk, format: disk.format === "vhd-fixed" ? "vhd-fixed" : "vhd" };
  }
  return { disk: file, format: "raw" };
}
