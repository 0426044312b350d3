/**
 * Disk image container formats, written and read natively: qcow2 (v3),
 * VHD (fixed and dynamic) and VMDK (monolithicSparse and streamOptimized).
 * Writers take a raw image as a byte stream and never write its zeros;
 * readers open any of the formats as a read-only `BlockDevice`. Writing to a
 * file, reading a sparse raw file and Node's zlib (`nodeCodecs`) are in
 * `@bigfile/vdisk/node`. The core uses no Node built-in: compressed clusters
 * and grains go through the `codecs` option, by default the Web's
 * `DecompressionStream`/`CompressionStream`, so it runs in a browser.
 *
 * @example Raw to qcow2, then read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { FileDevice, readFile } from "@bigfile/blockdev/node";
 * import { openImage, writeImage } from "@bigfile/vdisk";
 * import { writeImageFile } from "@bigfile/vdisk/node";
 * const raw = new Uint8Array(4 << 20); // a 4 MiB disk: a boot signature and zeros
 * raw.set([0x55, 0xaa], 510);
 * await writeFile("big.img", raw);
 * const size = raw.length;
 * await writeImageFile("big.qcow2", (sink) => writeImage({ size, data: readFile("big.img") }, "qcow2", sink));
 * const disk = await openImage(await FileDevice.open("big.qcow2", { readOnly: true }));
 * const mbr = await disk.read(0, 512);
 * assert.deepEqual([mbr[510], mbr[511]], [0x55, 0xaa]);
 * await disk.close();
 * ```
 *
 * @module
 */
export { type Codecs, type Compress, type Decompress, webCodecs } from "./codecs.ts";
export * from "./dynamic_vhd_placement.ts";
export * from "./errors.ts";
export * from "./image_device.ts";
export * from "./image_sink.ts";
export * from "./open_image.ts";
export * from "./qcow2_device.ts";
export * from "./qcow2_placement.ts";
export * from "./qcow2_writer.ts";
export * from "./raw_device.ts";
export * from "./raw_layout.ts";
export * from "./sparse_vmdk_placement.ts";
export * from "./vhd_device.ts";
export * from "./vhd_writer.ts";
export * from "./vmdk_device.ts";
export * from "./vmdk_writer.ts";
export * from "./write_image.ts";
