import { resolve } from "node:path";
import { openDisk } from "./_open_disk.ts";
import type { ImageInspection } from "./image_inspection.ts";
import { inspectDevice } from "./inspect_device.ts";

/** Options for {@linkcode inspectImage}. */
export interface InspectImageOptions {
  /** Directory a relative `image` is resolved against. @default process.cwd() */
  cwd?: string;
  /** The device name used in the listing. @default image as given */
  device?: string;
}

/**
 * Inspects a disk image file (raw, or any format vdisk reads) with
 * {@linkcode inspectDevice}: its CHS geometry, the DOS partition table, each
 * partition's ext2/3/4 filesystem (type, blocks, label, UUID, free space),
 * the boot code (GRUB 2's boot.img and core.img, with the prefix compiled
 * into core.img), the GRUB menus (grub.cfg, menu.lst) in each filesystem,
 * and whether it all agrees. Errors (`ok` false): a filesystem larger than
 * its partition ("either the partition table or the filesystem's superblock
 * is lying"), an invalid table, a bootable partition with no filesystem, a
 * core.img whose prefix points at a partition without that directory, a menu
 * naming a kernel or initrd that is not there, a damaged core.img. Warnings:
 * space left unused at the end of a partition, menu lines pygrub misreads.
 *
 * @param image Path of a disk image.
 * @returns The report; nothing is written.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { inspectImage } from "@bigfile/bigfile";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { build } from "@bigfile/bigfile";
 * await mkdir("rootfs/etc", { recursive: true });
 * await writeFile("rootfs/etc/hostname", "demo\n");
 * await writeFile("vmlinuz", "not a real kernel\n");
 * await writeFile("initrd.img", "not a real initrd\n");
 * await build({ output: "disk.img", size: "auto", rootfs: ["rootfs/"], kernel: "vmlinuz", initrd: "initrd.img" });
 * const report = await inspectImage("disk.img");
 * for (const check of report.checks) console.log(`${check.level}: ${check.message}`);
 * assert.equal(report.ok, true); // the CLI exits 1 when not
 * ```
 */
export async function inspectImage(
  image: string,
  options: InspectImageOptions = {},
): Promise<ImageInspection> {
  const disk = await openDisk(resolve(options.cwd ?? process.cwd(), image));
  try {
    return await inspectDevice(disk, { image, device: options.device ?? image });
  } finally {
    await disk.close();
  }
}
