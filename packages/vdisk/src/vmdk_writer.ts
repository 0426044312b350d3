import { isZero } from "@bigfile/blockdev";
import { alignUp, rawBlocks, setU64, viewOf } from "./_bytes.ts";
import {
  buildDescriptor,
  buildHeader,
  DESCRIPTOR_SECTORS,
  GD_AT_END,
  GRAIN_SECTORS,
  GTES_PER_GT,
  MARKER_FOOTER,
  MARKER_GD,
  MARKER_GT,
  markerSector,
} from "./_vmdk_format.ts";
import {
  sparseGrainDirectory,
  sparseVmdkHeader,
  vmdkExtentLayout,
  vmdkHeaderFields,
} from "./_vmdk_layout.ts";
import { type Codecs, withCodecs } from "./codecs.ts";
import {
  directCopier,
  type ImageSink,
  placedRanges,
  type RawImage,
  unitsWithData,
  type WriteResult,
} from "./image_sink.ts";

/** Options for {@linkcode writeVmdk}. */
export interface VmdkWriteOptions {
  /**
   * `monolithicSparse`: one file, grain tables before the grains (VMware
   * Workstation, VirtualBox; to a stream only with the image's `dataRuns`); `streamOptimized`:
   * compressed grains with markers, written strictly in order (OVA, vSphere
   * import; streams to a pipe). @default "monolithicSparse"
   */
  subformat?: "monolithicSparse" | "streamOptimized";
  /** The extent's file name in the descriptor (the image file's own name). @default "disk.vmdk" */
  extentName?: string;
  /** The descriptor's content id. @default random */
  cid?: number;
  /** streamOptimized's grain compressor (zlib), over the Web default (`CompressionStream`). @default webCodecs */
  codecs?: Partial<Codecs>;
}

/**
 * Writes a raw disk image as a VMDK sparse extent with its descriptor
 * embedded. Grains (64 KiB) of zeros are not stored. monolithicSparse
 * preallocates its grain tables and writes each one as the grains of its
 * 32 MiB span are done; streamOptimized writes compressed grains, each grain
 * table after its span, then the grain directory, the footer and the
 * end-of-stream marker.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeSync, openSync } from "node:fs";
 * import { writeFile } from "node:fs/promises";
 * import { readFile } from "@bigfile/blockdev/node";
 * import { writeVmdk } from "@bigfile/vdisk";
 * import { FdSink } from "@bigfile/vdisk/node";
 * const raw = new Uint8Array(4 << 20); // a 4 MiB disk: a boot signature and zeros
 * raw.set([0x55, 0xaa], 510);
 * await writeFile("big.img", raw);
 * const fd = openSync("big.vmdk", "w"); // FdSink(1): standard output, a pipe too for streamOptimized
 * const result = await writeVmdk({ size: raw.length, data: readFile("big.img") }, new FdSink(fd), {
 *   subformat: "streamOptimized",
 * });
 * closeSync(fd);
 * assert.equal(result.virtualSize, raw.length);
 * ```
 */
export async function writeVmdk(
  image: RawImage,
  sink: ImageSink,
  options: VmdkWriteOptions = {},
): Promise<WriteResult> {
  const subformat = options.subformat ?? "monolithicSparse";
  const { zlibDeflate } = withCodecs(options.codecs);
  const stream = subformat === "streamOptimized";
  if (!stream && !sink.seekable && !image.dataRuns) {
    throw new TypeError(
      "Cannot write a monolithicSparse VMDK to a stream unless where the data is is known up front: its grain tables come before the grains; write to a file (-o FILE) or use vmdk-stream",
    );
  }
  const layout = vmdkExtentLayout(image.size);
  const { capacity, gdSectors, gtSectors, gdOffset, gtsOffset } = layout;
  const numGTs = layout.grainTables;
  const grainBytes = GRAIN_SECTORS * 512;
  const cid = options.cid ?? crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
  const descriptor = buildDescriptor(
    capacity,
    subformat,
    options.extentName ?? "disk.vmdk",
    cid,
    DESCRIPTOR_SECTORS,
  );
  const headerFields = vmdkHeaderFields(layout, stream);
  const overhead = headerFields.overhead;
  await sink.write(
    0,
    stream ? buildHeader({ ...headerFields, gdOffset: GD_AT_END }) : sparseVmdkHeader(layout),
  );
  await sink.write(512, descriptor);

  // streamOptimized: filled in as each grain table is written.
  const gd = stream ? new Uint8Array(gdSectors * 512) : sparseGrainDirectory(layout);
  const gdView = viewOf(gd);
  let gt = new Uint8Array(gtSectors * 512);
  let gtView = viewOf(gt);
  let gtUsed = false;
  let cursor = overhead; // in sectors
  let dataBytes = 0;
  const flushGT = async (index: number) => {
    if (stream) {
      if (!gtUsed) return;
      await sink.write(cursor * 512, markerSector(MARKER_GT, gtSectors));
      await sink.write((cursor + 1) * 512, gt);
      gdView.setUint32(index * 4, cursor + 1, true);
      cursor += 1 + gtSectors;
    } else if (gtUsed) {
      await sink.write((gtsOffset + index * gtSectors) * 512, gt);
    }
    gt = new Uint8Array(gtSectors * 512);
    gtView = viewOf(gt);
    gtUsed = false;
  };

  // Streaming a monolithicSparse extent, or copying file to file: grain
  // tables and directory planned from the data runs.
  const copy = stream ? undefined : directCopier(image, sink);
  const plan =
    !stream && (!sink.seekable || copy)
      ? unitsWithData(image.dataRuns ?? [], grainBytes).filter(
          (g) => g < Math.ceil(capacity / GRAIN_SECTORS),
        )
      : undefined;
  if (plan) {
    await sink.write(gdOffset * 512, gd);
    const tables = new Uint8Array(numGTs * gtSectors * 512);
    const t = viewOf(tables);
    plan.forEach((g, k) => {
      t.setUint32(g * 4, overhead + k * GRAIN_SECTORS, true);
    });
    await sink.write(gtsOffset * 512, tables);
    if (copy) {
      const base = overhead * 512;
      await copy(
        placedRanges(image.dataRuns ?? [], plan, grainBytes, (k) => base + k * grainBytes),
      );
      dataBytes = plan.length * grainBytes;
    }
  }
  let k = 0;
  let grain = 0;
  for await (const block of copy ? [] : rawBlocks(image.data, grainBytes, image.size)) {
    const index = grain++;
    if (plan) {
      if (plan[k] === index) {
        await sink.write((overhead + k * GRAIN_SECTORS) * 512, block);
        k++;
        dataBytes += grainBytes;
      } else if (!isZero(block)) {
        throw new RangeError(
          `Cannot write VMDK: grain ${index} holds data outside the image's announced data runs`,
        );
      }
      continue;
    }
    const gtIndex = Math.floor(index / GTES_PER_GT);
    if (index > 0 && index % GTES_PER_GT === 0) await flushGT(gtIndex - 1);
    if (isZero(block)) continue;
    dataBytes += grainBytes;
    gtView.setUint32((index % GTES_PER_GT) * 4, cursor, true);
    gtUsed = true;
    if (stream) {
      const packed = await zlibDeflate(block);
      const record = new Uint8Array(alignUp(12 + packed.length, 512));
      const r = viewOf(record);
      setU64(r, 0, index * GRAIN_SECTORS, true);
      r.setUint32(8, packed.length, true);
      record.set(packed, 12);
      await sink.write(cursor * 512, record);
      cursor += record.length / 512;
    } else {
      await sink.write(cursor * 512, block);
      cursor += GRAIN_SECTORS;
    }
  }
  if (plan) {
    const fileSize = (overhead + plan.length * GRAIN_SECTORS) * 512;
    await sink.end(fileSize);
    return { fileSize, virtualSize: capacity * 512, dataBytes };
  }
  if (numGTs > 0) await flushGT(numGTs - 1);

  if (!stream) {
    await sink.write(gdOffset * 512, gd);
    await sink.end(cursor * 512);
    return { fileSize: cursor * 512, virtualSize: capacity * 512, dataBytes };
  }
  await sink.write(cursor * 512, markerSector(MARKER_GD, gdSectors));
  const gdAt = cursor + 1;
  await sink.write(gdAt * 512, gd);
  cursor = gdAt + gdSectors;
  await sink.write(cursor * 512, markerSector(MARKER_FOOTER, 1));
  await sink.write((cursor + 1) * 512, buildHeader({ ...headerFields, gdOffset: BigInt(gdAt) }));
  cursor += 2;
  // The end-of-stream marker is a sector of zeros.
  const fileSize = (cursor + 1) * 512;
  await sink.end(fileSize);
  return { fileSize, virtualSize: capacity * 512, dataBytes };
}
