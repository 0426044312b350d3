import type { BlockDevice } from "@bigfile/blockdev";
import { ascii } from "./_bytes.ts";
import type { ImageDevice, ImageFormat } from "./image_device.ts";
import { type ImageReadOptions, Qcow2Device } from "./qcow2_device.ts";
import { RawDevice } from "./raw_device.ts";
import { VhdDevice } from "./vhd_device.ts";
import { VmdkDevice } from "./vmdk_device.ts";

/**
 * The container format of an image file, from its magic numbers: qcow2
 * (`QFI\xfb`), VMDK (`KDMV`), VHD (a `conectix` footer); anything else is raw.
 *
 * @example Usage
 * ```ts
 * import { MemoryDevice } from "@bigfile/blockdev";
 * import { detectFormat } from "@bigfile/vdisk";
 * await detectFormat(new MemoryDevice(new Uint8Array(4096))); // "raw"
 * ```
 */
export async function detectFormat(file: BlockDevice): Promise<ImageFormat> {
  if (file.size >= 512) {
    const head = await file.read(0, 512);
    const magic = ascii(head.subarray(0, 4));
    if (magic === "QFI\xfb") return "qcow2";
    // A VMDK descriptor file (text; its extents are other files): the VMDK reader refuses it clearly.
    if (ascii(head.subarray(0, 21)) === "# Disk DescriptorFile") return "vmdk";
    if (magic === "KDMV") {
      const flags = new DataView(head.buffer, head.byteOffset).getUint32(8, true);
      return flags & 0x10000 ? "vmdk-stream" : "vmdk";
    }
    const foot = await file.read(file.size - 512, 512);
    const footer = ascii(foot.subarray(0, 8)) === "conectix" ? foot : head;
    if (ascii(footer.subarray(0, 8)) === "conectix") {
      const type = new DataView(footer.buffer, footer.byteOffset).getUint32(60);
      return type === 2 ? "vhd-fixed" : "vhd";
    }
  }
  return "raw";
}

/** Options for {@linkcode openImage}. */
export interface OpenImageOptions extends ImageReadOptions {
  /** Read as this format instead of detecting it. */
  format?: ImageFormat;
}

/**
 * Opens the disk inside an image file of any supported format as a
 * read-only {@linkcode ImageDevice} (a `BlockDevice`): raw files read as
 * themselves. Closing the device closes `file`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { FileDevice } from "@bigfile/blockdev/node";
 * import { openImage, writeImage } from "@bigfile/vdisk";
 * import { rawFileImage, writeImageFile } from "@bigfile/vdisk/node";
 * const raw = new Uint8Array(4 << 20); // a 4 MiB disk: a boot signature and zeros
 * raw.set([0x55, 0xaa], 510);
 * await writeFile("big.img", raw);
 * await writeImageFile("disk.vmdk", (sink) => writeImage(rawFileImage("big.img"), "vmdk", sink));
 * const disk = await openImage(await FileDevice.open("disk.vmdk", { readOnly: true }));
 * assert.equal(disk.format, "vmdk");
 * const mbr = await disk.read(0, 512);
 * assert.deepEqual([mbr[510], mbr[511]], [0x55, 0xaa]);
 * await disk.close();
 * ```
 */
export async function openImage(
  file: BlockDevice,
  options: OpenImageOptions = {},
): Promise<ImageDevice> {
  const format = options.format ?? (await detectFormat(file));
  switch (format) {
    case "qcow2":
      return Qcow2Device.open(file, options);
    case "vhd":
    case "vhd-fixed":
      return VhdDevice.open(file);
    case "vmdk":
    case "vmdk-stream":
      return VmdkDevice.open(file, options);
    default:
      return new RawDevice(file);
  }
}
