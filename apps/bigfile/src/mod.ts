/**
 * bigfile's library: `build()` makes a bootable disk image (partition table,
 * ext3 filesystem filled from root trees, kernel and initrd, GRUB) in one
 * pass, sparse, without root.
 *
 * @example Usage
 * ```ts
 * import { build } from "@bigfile/bigfile";
 * const report = await build({ output: "disk.img", rootfs: ["rootfs/"], kernel: "vmlinuz", serial: true });
 * console.log(report.partition.offset); // 1048576
 * ```
 *
 * @module
 */

export * from "./boot_files.ts";
export * from "./build.ts";
export * from "./build_config.ts";
export * from "./grub_menu.ts";
export * from "./inspect_image.ts";
export * from "./vm_config.ts";
