import { type ImagePlacement, isZero } from "@bigfile/blockdev";
import { alignUp, rawBlockRuns, viewOf } from "./_bytes.ts";
import { checkPlace } from "./_placement_ranges.ts";
import {
  buildDynamicHeader,
  buildFooter,
  DISK_TYPE_DYNAMIC,
  DISK_TYPE_FIXED,
} from "./_vhd_format.ts";
import { dynamicVhdLayout, nextVhdBlock, vhdDiskSize, vhdFooterFields } from "./_vhd_layout.ts";
import {
  directCopier,
  type ImageSink,
  placedRanges,
  type RawImage,
  sameOffsetRanges,
  unitsWithData,
  type WriteResult,
} from "./image_sink.ts";

/** Options for {@linkcode writeVhd}. */
export interface VhdWriteOptions {
  /** `fixed`: the raw bytes then a footer (Azure); `dynamic`: a BAT and 2 MiB blocks (Hyper-V). @default "dynamic" */
  type?: "fixed" | "dynamic";
  /**
   * Round the virtual size up to a multiple of this many bytes. Azure requires
   * fixed VHDs whose size is a whole number of MiB. @default 1 MiB for fixed, 512 for dynamic
   */
  alignment?: number;
  /** The footer's timestamp. @default now */
  timestamp?: Date;
  /** The disk's 16-byte unique id. @default random */
  uuid?: Uint8Array;
  /**
   * Creator application (4 characters). "qem2" tells QEMU to take the size
   * from the footer's current size rather than the CHS geometry (as Hyper-V
   * and VirtualBox always do). @default "qem2"
   */
  creatorApp?: string;
}

function fixedVhdEmpty(): RangeError {
  return new RangeError(
    "Cannot write a fixed VHD of 0 bytes: its lone footer would read as a dynamic disk's header",
  );
}

/**
 * A fixed VHD written by position, as a raw image is (its bytes are the raw
 * disk's, at the same offsets): `place` gives each range back unchanged,
 * {@linkcode FixedVhdPlacement.finish} writes the footer after the disk,
 * rounded up to the alignment (1 MiB, as Azure requires). blockdev's
 * `ImagePlacement`, as {@linkcode Qcow2Placement} is; `bigfile build --format
 * vhd-fixed` writes through it.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { FixedVhdPlacement, MemorySink } from "@bigfile/vdisk";
 * const placement = new FixedVhdPlacement(3 << 20); // a 3 MiB disk
 * assert.deepEqual(placement.place(32256, 512), [32256, 512]);
 * const sink = new MemorySink();
 * const result = await placement.finish(sink);
 * assert.equal(result.fileSize, (3 << 20) + 512);
 * ```
 */
export class FixedVhdPlacement implements ImagePlacement {
  /** The disk's size rounded up to the alignment: where the footer goes. */
  readonly size: number;
  readonly #footer: Uint8Array;
  #placed = 0;
  #finished = false;

  constructor(size: number, options: Omit<VhdWriteOptions, "type"> = {}) {
    this.size = vhdDiskSize(size, options.alignment ?? 1 << 20);
    if (this.size === 0) throw fixedVhdEmpty();
    this.#footer = buildFooter({
      ...vhdFooterFields(this.size, options),
      diskType: DISK_TYPE_FIXED,
      dataOffset: -1,
    });
  }

  place(offset: number, length: number): number[] {
    checkPlace("FixedVhdPlacement", "a VHD", this.#finished, offset, length, this.size);
    this.#placed += length;
    return length > 0 ? [offset, length] : [];
  }

  /** Writes the footer after the disk and ends the sink (a seekable one over the same file). */
  async finish(sink: ImageSink): Promise<WriteResult> {
    if (this.#finished) throw new TypeError("FixedVhdPlacement.finish called twice");
    if (!sink.seekable) throw new TypeError("FixedVhdPlacement.finish needs a seekable sink");
    this.#finished = true;
    await sink.write(this.size, this.#footer);
    await sink.end(this.size + 512);
    return { fileSize: this.size + 512, virtualSize: this.size, dataBytes: this.#placed };
  }
}

/**
 * Writes a raw disk image as a VHD. Fixed: the raw bytes (zeros left as holes,
 * or streamed to a pipe), padded to the alignment, then the 512-byte footer.
 * Dynamic: footer copy, dynamic header, block allocation table, then a sector
 * bitmap and 2 MiB of data for each block that holds data, and the footer;
 * blocks of zeros are not allocated. The table is written after the blocks to
 * a seekable sink; to a stream, the image's `dataRuns` plan it up front.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { stat, writeFile } from "node:fs/promises";
 * import { readFile } from "@bigfile/blockdev/node";
 * import { writeVhd } from "@bigfile/vdisk";
 * import { writeImageFile } from "@bigfile/vdisk/node";
 * const raw = new Uint8Array(4 << 20); // a 4 MiB disk: a boot signature and zeros
 * raw.set([0x55, 0xaa], 510);
 * await writeFile("big.img", raw);
 * await writeImageFile("azure.vhd", (sink) => writeVhd({ size: raw.length, data: readFile("big.img") }, sink, { type: "fixed" }));
 * assert.equal((await stat("azure.vhd")).size, raw.length + 512); // the data, then the 512-byte footer
 * ```
 */
export async function writeVhd(
  image: RawImage,
  sink: ImageSink,
  options: VhdWriteOptions = {},
): Promise<WriteResult> {
  const type = options.type ?? "dynamic";
  const size = vhdDiskSize(image.size, options.alignment ?? (type === "fixed" ? 1 << 20 : 512));
  const footerFields = vhdFooterFields(size, options);
  let dataBytes = 0;
  if (type === "fixed") {
    if (size === 0) throw fixedVhdEmpty();
    const copy = directCopier(image, sink);
    if (copy) {
      // The data at its own offsets, file to file.
      const ranges = sameOffsetRanges(image.dataRuns ?? [], image.size);
      for (let i = 2; i < ranges.length; i += 3) dataBytes += ranges[i] as number;
      await copy(ranges);
    } else {
      let at = 0;
      for await (const block of rawBlockRuns(image.data, 1 << 20, image.size)) {
        if (typeof block === "number") {
          at += block * (1 << 20); // a hole: nothing to write
          continue;
        }
        const length = Math.min(block.length, image.size - at);
        if (!isZero(block)) {
          await sink.write(at, block.subarray(0, length));
          dataBytes += length;
        }
        at += length;
      }
    }
    await sink.write(
      size,
      buildFooter({ ...footerFields, diskType: DISK_TYPE_FIXED, dataOffset: -1 }),
    );
    await sink.end(size + 512);
    return { fileSize: size + 512, virtualSize: size, dataBytes };
  }

  const layout = dynamicVhdLayout(size);
  const { blockSize, entries, batOffset, batBytes, bitmapBytes, firstBlock: first } = layout;
  if (!sink.seekable && !image.dataRuns) {
    throw new TypeError(
      "Cannot write a dynamic VHD to a stream unless where the data is is known up front: its block table comes first; write to a file (-o FILE) or use vhd-fixed",
    );
  }
  // Streaming, or copying file to file: the blocks to allocate are planned
  // from the data runs, the table written first.
  const copy = directCopier(image, sink);
  const plan =
    sink.seekable && !copy
      ? undefined
      : unitsWithData(image.dataRuns ?? [], blockSize).filter((b) => b < entries);
  const bat = new Uint8Array(batBytes).fill(0xff);
  const batView = viewOf(bat);
  const bitmap = new Uint8Array(bitmapBytes).fill(0xff);
  const next = (at: number) => nextVhdBlock(layout, at);
  const footer = buildFooter({ ...footerFields, diskType: DISK_TYPE_DYNAMIC, dataOffset: 512 });
  const header = buildDynamicHeader(batOffset, entries, blockSize);
  let cursor = first;
  if (plan) {
    for (const b of plan) {
      batView.setUint32(b * 4, cursor / 512);
      cursor = next(cursor);
    }
    await sink.write(0, footer);
    await sink.write(512, header);
    await sink.write(batOffset, bat);
    cursor = first;
  }
  let index = 0;
  let k = 0;
  const writeBlock = async (block: Uint8Array): Promise<void> => {
    await sink.write(cursor, bitmap);
    await sink.write(cursor + bitmapBytes, block);
    dataBytes += blockSize;
    cursor = next(cursor);
  };
  if (copy && plan) {
    const slots: number[] = [];
    for (const _ of plan) {
      await sink.write(cursor, bitmap);
      slots.push(cursor + bitmapBytes);
      dataBytes += blockSize;
      cursor = next(cursor);
    }
    await copy(placedRanges(image.dataRuns ?? [], plan, blockSize, (k) => slots[k] as number));
  }
  for await (const item of copy ? [] : rawBlockRuns(image.data, blockSize, image.size)) {
    if (typeof item === "number") {
      // A hole of `item` blocks; planned blocks inside it (runs may hold zeros) are written as zeros.
      const end = index + item;
      for (; plan && k < plan.length && (plan[k] as number) < end; k++) {
        await writeBlock(new Uint8Array(blockSize));
      }
      index = end;
      continue;
    }
    const block = item;
    const i = index++;
    if (plan) {
      if (plan[k] !== i) {
        if (isZero(block)) continue;
        throw new RangeError(
          `Cannot write VHD: block ${i} holds data outside the image's announced data runs`,
        );
      }
      k++;
    } else {
      if (isZero(block)) continue;
      batView.setUint32(i * 4, cursor / 512);
    }
    await writeBlock(block);
  }
  const end = alignUp(cursor, 512);
  if (!plan) {
    await sink.write(0, footer);
    await sink.write(512, header);
    await sink.write(batOffset, bat);
  }
  await sink.write(end, footer);
  await sink.end(end + 512);
  return { fileSize: end + 512, virtualSize: size, dataBytes };
}
