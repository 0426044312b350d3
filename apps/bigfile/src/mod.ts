/**
 * bigfile's library: `build()` makes a bootable disk image (partition table,
 * ext3 filesystem filled from root trees, kernel and initrd, GRUB) in one
 * pass, sparse, without root.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { build, inspectImage } from "@bigfile/bigfile";
 * await mkdir("rootfs/etc", { recursive: true });
 * await writeFile("rootfs/etc/hostname", "demo\n");
 * await writeFile("vmlinuz", "not a real kernel\n");
 * const report = await build({ output: "disk.img", size: "auto", align: "mib", rootfs: ["rootfs/"], kernel: "vmlinuz", serial: true });
 * assert.equal(report.partition.offset, 1048576);
 * assert.equal((await inspectImage("disk.img")).ok, true); // table, filesystem and boot files agree
 * ```
 *
 * @module
 */

export * from "./boot_files.ts";
export * from "./build.ts";
export * from "./build_config.ts";
export * from "./grub_menu.ts";
export * from "./inspect.ts";
export * from "./inspect_image.ts";
export * from "./vm_config.ts";
