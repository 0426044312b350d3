/**
 * The Node-specific half of `@bigfile/vdisk`: write an image to a file
 * atomically or to a descriptor (`writeImageFile`, `writeImageTo`, `FdSink`)
 * and read a raw image file with its holes known (`rawFileImage`). The formats
 * themselves are at `@bigfile/vdisk`.
 *
 * @example Raw file to VMDK
 * ```ts
 * import { writeImage } from "@bigfile/vdisk";
 * import { rawFileImage, writeImageFile } from "@bigfile/vdisk/node";
 * const raw = await rawFileImage("big.img");
 * await writeImageFile("big.vmdk", (sink) => writeImage(raw, "vmdk-stream", sink));
 * ```
 *
 * @module
 */
export * from "./file_sink.ts";
export * from "./raw_file_image.ts";
