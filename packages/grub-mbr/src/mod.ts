/**
 * Install GRUB 2 (i386-pc) into a disk image without root, byte for byte as
 * grub-bios-setup does: boot.img into sector 0 (keeping the BPB, disk
 * signature and partition table), core.img into the MBR gap or the GPT BIOS
 * boot partition with its blocklists and Reed-Solomon parity; inspect what
 * boot code an image holds. Finding GRUB's files on this system, running
 * grub-mkimage and building the /boot/grub payload are in `@bigfile/grub-mbr/node`.
 *
 * @example Usage
 * ```ts
 * import { FileDevice } from "@bigfile/blockdev/node";
 * import { installGrub } from "@bigfile/grub-mbr";
 * import { readFile } from "node:fs/promises";
 * const disk = await FileDevice.open("disk.img");
 * const plan = await installGrub(
 *   disk,
 *   await readFile("/usr/lib/grub/i386-pc/boot.img"),
 *   await readFile("core.img"),
 * );
 * console.log(`core.img at sectors ${plan.sectors[0]}-${plan.sectors.at(-1)}`);
 * await disk.close();
 * ```
 *
 * @module
 */

export * from "./embedding_area.ts";
export * from "./grub_config.ts";
export * from "./grub_install_error.ts";
export * from "./grub_layout.ts";
export * from "./grub_legacy_menu.ts";
export * from "./inspect_boot.ts";
export * from "./install_grub.ts";
export * from "./plan_grub_install.ts";
export * from "./reed_solomon.ts";
