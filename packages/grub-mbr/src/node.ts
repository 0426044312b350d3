/**
 * The Node-specific half of `@bigfile/grub-mbr`: find the system's GRUB
 * i386-pc files (`findGrubDir`), build core.img with grub-mkimage
 * (`buildCoreImage`) and stream the /boot/grub payload as a tar
 * (`grubFilesTar`). Installing into an image is at `@bigfile/grub-mbr`.
 *
 * @example Usage
 * ```ts
 * import { buildCoreImage, findGrubDir } from "@bigfile/grub-mbr/node";
 * const grubDir = await findGrubDir();
 * const coreImg = await buildCoreImage(grubDir);
 * console.log(`core.img: ${coreImg.length} bytes`);
 * ```
 *
 * @module
 */
export * from "./node/grub_files.ts";
