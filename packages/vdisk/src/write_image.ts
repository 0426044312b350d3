import { rawBlocks } from "./_bytes.ts";
import { DEFAULT_BLOCK_SIZE } from "./_vhd_format.ts";
import { GRAIN_SECTORS } from "./_vmdk_format.ts";
import type { Codecs } from "./codecs.ts";
import type { ImageFormat } from "./image_device.ts";
import {
  directCopier,
  type ImageSink,
  type RawImage,
  sameOffsetRanges,
  type WriteResult,
} from "./image_sink.ts";
import { type Qcow2Compression, writeQcow2 } from "./qcow2_writer.ts";
import { type VhdWriteOptions, writeVhd } from "./vhd_writer.ts";
import { type VmdkWriteOptions, writeVmdk } from "./vmdk_writer.ts";

/** Options for {@linkcode writeImage}: the union of every writer's options. */
export interface WriteImageOptions {
  /** qcow2 cluster size in bytes. @default 65536 */
  clusterSize?: number;
  /**
   * Compress qcow2 clusters: `true`/`"zlib"`, or `"zstd"`; both need `codecs`
   * that have them (`nodeCodecs` from `@bigfile/vdisk/node`; zstd on Node >= 22.15).
   * VMDK streamOptimized grains are always compressed (zlib). @default false
   */
  compress?: boolean | Qcow2Compression;
  /** The compressors, over the Web defaults (`CompressionStream`: VMDK grains only). @default webCodecs */
  codecs?: Partial<Codecs>;
  /** VHD: round the size up to a multiple of this many bytes. @default 1 MiB for vhd-fixed, 512 for vhd */
  alignment?: number;
  /** VHD footer timestamp. @default now */
  timestamp?: Date;
  /** VHD unique id (16 bytes). @default random */
  uuid?: Uint8Array;
  /** VMDK: the extent file name the descriptor names (the output file's base name). @default "disk.vmdk" */
  extentName?: string;
  /** VMDK: the descriptor's content id. @default random */
  cid?: number;
}

/**
 * Formats whose tables come after the data on a seekable sink: to a pipe they
 * need the image's `dataRuns` (see {@linkcode canStream}).
 *
 * @example Usage
 * ```ts
 * import { SEEKABLE_FORMATS } from "@bigfile/vdisk";
 * SEEKABLE_FORMATS.includes("vmdk-stream"); // false: it always streams
 * ```
 */
export const SEEKABLE_FORMATS: readonly ImageFormat[] = ["qcow2", "vhd", "vmdk"];

/**
 * Writes a raw disk image in `format` to `sink`. Zeros are never written:
 * container formats leave them unallocated, raw and fixed VHD leave holes
 * (the sink skips them). qcow2, dynamic VHD and monolithicSparse VMDK need a
 * seekable sink; raw, fixed VHD and streamOptimized VMDK also stream to a pipe.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { readFile } from "@bigfile/blockdev/node";
 * import { writeImage } from "@bigfile/vdisk";
 * import { writeImageFile } from "@bigfile/vdisk/node";
 * await writeFile("big.img", new Uint8Array(4 << 20).fill(1, 0, 4096));
 * const result = await writeImageFile("disk.vmdk", (sink) =>
 *   writeImage({ size: 4 << 20, data: readFile("big.img") }, "vmdk-stream", sink));
 * assert.equal(result.virtualSize, 4 << 20);
 * ```
 */
export async function writeImage(
  image: RawImage,
  format: ImageFormat,
  sink: ImageSink,
  options: WriteImageOptions = {},
): Promise<WriteResult> {
  switch (format) {
    case "qcow2":
      return writeQcow2(image, sink, {
        ...(options.clusterSize !== undefined ? { clusterSize: options.clusterSize } : {}),
        ...(options.compress !== undefined ? { compress: options.compress } : {}),
        ...(options.codecs !== undefined ? { codecs: options.codecs } : {}),
      });
    case "vhd":
    case "vhd-fixed": {
      const vhd: VhdWriteOptions = { type: format === "vhd" ? "dynamic" : "fixed" };
      if (options.alignment !== undefined) vhd.alignment = options.alignment;
      if (options.timestamp !== undefined) vhd.timestamp = options.timestamp;
      if (options.uuid !== undefined) vhd.uuid = options.uuid;
      return writeVhd(image, sink, vhd);
    }
    case "vmdk":
    case "vmdk-stream": {
      const vmdk: VmdkWriteOptions = {
        subformat: format === "vmdk" ? "monolithicSparse" : "streamOptimized",
      };
      if (options.extentName !== undefined) vmdk.extentName = options.extentName;
      if (options.cid !== undefined) vmdk.cid = options.cid;
      if (options.codecs !== undefined) vmdk.codecs = options.codecs;
      return writeVmdk(image, sink, vmdk);
    }
    case "raw":
      return writeRaw(image, sink);
    default:
      throw new RangeError(`Cannot write ${format as string}: unknown format`);
  }
}

/** Writes the raw bytes themselves (holes where the sink allows). *
 * @example Usage
 * ```ts
 * import { MemorySink, writeRaw } from "@bigfile/vdisk";
 * await writeRaw({ size: 3, data: (async function* () { yield new Uint8Array([1, 2, 3]); })() }, new MemorySink());
 * ```
 */
export async function writeRaw(image: RawImage, sink: ImageSink): Promise<WriteResult> {
  let at = 0;
  let dataBytes = 0;
  const copy = directCopier(image, sink);
  if (copy) {
    await copy(sameOffsetRanges(image.dataRuns ?? [], image.size));
    await sink.end(image.size);
    return { fileSize: image.size, virtualSize: image.size, dataBytes: image.size };
  }
  for await (const block of rawBlocks(image.data, 1 << 20, image.size)) {
    const length = Math.min(block.length, image.size - at);
    await sink.write(at, block.subarray(0, length));
    at += length;
    dataBytes += length;
  }
  await sink.end(image.size);
  return { fileSize: image.size, virtualSize: image.size, dataBytes };
}

/**
 * How many bytes of the disk `format` allocates at a time (with `options`):
 * a qcow2 cluster, a VMDK grain, a dynamic VHD block; 0 for raw and fixed
 * VHD, which store every byte in place. A unit of zeros is left unallocated,
 * so this is the granularity at which to look for zeros.
 *
 * @example Usage
 * ```ts
 * import { allocationUnit } from "@bigfile/vdisk";
 * allocationUnit("qcow2", { clusterSize: 2 << 20 }); // 2097152
 * allocationUnit("vhd-fixed"); // 0
 * ```
 */
export function allocationUnit(format: ImageFormat, options: WriteImageOptions = {}): number {
  switch (format) {
    case "qcow2":
      return options.clusterSize ?? 65536;
    case "vhd":
      return DEFAULT_BLOCK_SIZE;
    case "vmdk":
    case "vmdk-stream":
      return GRAIN_SECTORS * 512;
    default:
      return 0;
  }
}

/**
 * Whether `format` can be written to a non-seekable sink (a pipe) for this
 * image: raw, fixed VHD and streamOptimized VMDK always; qcow2 (uncompressed),
 * dynamic VHD and monolithicSparse VMDK when the image's `dataRuns` are known.
 *
 * @example Usage
 * ```ts
 * import { canStream } from "@bigfile/vdisk";
 * const image = { size: 1 << 20, data: [] as unknown as AsyncIterable<Uint8Array> };
 * canStream(image, "qcow2"); // false: no dataRuns
 * canStream({ ...image, dataRuns: [0, 4096] }, "qcow2"); // true
 * ```
 */
export function canStream(
  image: RawImage,
  format: ImageFormat,
  options: WriteImageOptions = {},
): boolean {
  if (!SEEKABLE_FORMATS.includes(format)) return true;
  return image.dataRuns !== undefined && !(format === "qcow2" && options.compress);
}
