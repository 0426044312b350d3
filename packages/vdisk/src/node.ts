/**
 * The Node-specific half of `@bigfile/vdisk`: write an image to a file
 * atomically or to a descriptor (`writeImageFile`, `writeImageTo`, `FdSink`)
 * and read a raw image file with its holes known (`rawFileImage`) or the disk
 * in a container file, copied file to file (`containerFileImage`), and Node's
 * zlib as the formats' codecs (`nodeCodecs`: fast, with zstd on Node >= 22.15). The formats
 * themselves are at `@bigfile/vdisk`.
 *
 * @example Raw file to VMDK
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { writeImage } from "@bigfile/vdisk";
 * import { rawFileImage, writeImageFile } from "@bigfile/vdisk/node";
 * const raw = new Uint8Array(4 << 20); // a 4 MiB disk: a boot signature and zeros
 * raw.set([0x55, 0xaa], 510);
 * await writeFile("big.img", raw);
 * const result = await writeImageFile("big.vmdk", (sink) => writeImage(rawFileImage("big.img"), "vmdk-stream", sink));
 * assert.equal(result.virtualSize, 4 << 20);
 * ```
 *
 * @module
 */
export { nodeCodecs, qcow2DeflateLibrary } from "./_node_zlib.ts";
export * from "./container_file_image.ts";
export * from "./file_sink.ts";
export * from "./raw_file_image.ts";
