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
 * import assert from "node:assert/strict";
 * import { installGrub } from "@bigfile/grub-mbr";
 * import { readFile } from "node:fs/promises";
 * import { FileDevice, writeToFile } from "@bigfile/blockdev/node";
 * import { planWrap, wrapPartition } from "@bigfile/mbr";
 * import { buildCoreImage, findGrubDir } from "@bigfile/grub-mbr/node";
 * const grubDir = await findGrubDir(); // $GRUB_DIR or /usr/lib/grub/i386-pc (grub-pc-bin)
 * const bootImg = await readFile(`${grubDir}/boot.img`);
 * const coreImg = await buildCoreImage(grubDir); // grub-mkimage -O i386-pc ... biosdisk part_msdos ext2
 * // A disk with partition 1 at 1 MiB: a 2047-sector MBR gap to embed core.img in.
 * await writeToFile(wrapPartition(ReadableStream.from([new Uint8Array(8 << 20)]), planWrap({ partitionSize: 8 << 20 })), "disk.img");
 * const disk = await FileDevice.open("disk.img");
 * const plan = await installGrub(disk, bootImg, coreImg);
 * console.log(`core.img at sectors ${plan.sectors[0]}-${plan.sectors.at(-1)}`);
 * assert.equal(plan.sectors[0], 1);
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
