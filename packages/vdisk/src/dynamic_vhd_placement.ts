import type { ImagePlacement } from "@bigfile/blockdev";
import { viewOf } from "./_bytes.ts";
import { checkPlace, unitFileRanges } from "./_placement_ranges.ts";
import { buildDynamicHeader, buildFooter, DISK_TYPE_DYNAMIC } from "./_vhd_format.ts";
import {
  type DynamicVhdLayout,
  dynamicVhdLayout,
  nextVhdBlock,
  vhdDiskSize,
  vhdFooterFields,
} from "./_vhd_layout.ts";
import type { ImageSink, WriteResult } from "./image_sink.ts";
import type { VhdWriteOptions } from "./vhd_writer.ts";

/** Options for {@linkcode DynamicVhdPlacement}: those of a dynamic {@linkcode writeVhd}. */
export type DynamicVhdPlacementOptions = Omit<VhdWriteOptions, "type">;

/**
 * A dynamic VHD written by position, as a raw image would be: each write of
 * a part of the disk asks {@linkcode DynamicVhdPlacement.place} where it
 * goes, and a 2 MiB block gets the next block of the file the first time any
 * byte of it is written (the order of the calls, so the same writes give the
 * same file). Blocks never written take no room. The block allocation table
 * comes first, its size known from the disk's; {@linkcode
 * DynamicVhdPlacement.finish} writes each block's sector bitmap (every sector
 * present, as qemu-img marks allocated blocks), the table, the headers and
 * the footer. The layout, size and footer are `writeVhd`'s `dynamic` ones.
 * blockdev's `ImagePlacement`, as {@linkcode Qcow2Placement} is; `bigfile
 * build --format vhd` writes through it. Writes must go into an empty file
 * that reads as zeros where nothing was written. Memory: 4 bytes a block of
 * the disk (the table).
 *
 * @example A 64 MiB disk with a boot sector and data across two blocks
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeSync } from "node:fs";
 * import { openImage, DynamicVhdPlacement } from "@bigfile/vdisk";
 * import { FileDevice, writeNonZeroBlocks } from "@bigfile/blockdev/node";
 * import { writeImageFile } from "@bigfile/vdisk/node";
 * const placement = new DynamicVhdPlacement(64 << 20);
 * const mbr = new Uint8Array(512);
 * mbr.set([0x55, 0xaa], 510);
 * await writeImageFile("disk.vhd", async (sink) => {
 *   writeNonZeroBlocks(sink.fd, mbr, 0, 512, placement);
 *   // 1 MiB from 1.5 MiB: the end of block 0, then the start of block 1, elsewhere in the file.
 *   const ranges = placement.place(3 << 19, 1 << 20);
 *   assert.equal(ranges.length, 4);
 *   for (let i = 0; i < ranges.length; i += 2) {
 *     const length = ranges[i + 1] as number;
 *     writeSync(sink.fd, new Uint8Array(length).fill(1), 0, length, ranges[i]);
 *   }
 *   return placement.finish(sink);
 * });
 * const disk = await openImage(await FileDevice.open("disk.vhd", { readOnly: true }));
 * assert.deepEqual([...(await disk.read(510, 2))], [0x55, 0xaa]);
 * assert.deepEqual([...(await disk.read((2 << 20) - 1, 2))], [1, 1]);
 * await disk.close();
 * ```
 */
export class DynamicVhdPlacement implements ImagePlacement {
  /** The disk's size rounded up to the alignment (512 bytes unless given). */
  readonly size: number;
  readonly #layout: DynamicVhdLayout;
  readonly #footer: Uint8Array;
  /** The sector of each block's bitmap in the file; 0: not placed (sector 0 is the footer copy). */
  readonly #blocks: Uint32Array;
  #cursor: number;
  #placedBlocks = 0;
  #finished = false;

  constructor(size: number, options: DynamicVhdPlacementOptions = {}) {
    this.size = vhdDiskSize(size, options.alignment ?? 512);
    this.#layout = dynamicVhdLayout(this.size);
    this.#blocks = new Uint32Array(this.#layout.entries);
    this.#cursor = this.#layout.firstBlock;
    this.#footer = buildFooter({
      ...vhdFooterFields(this.size, options),
      diskType: DISK_TYPE_DYNAMIC,
      dataOffset: 512,
    });
  }

  /** Bytes of blocks placed so far. */
  get dataBytes(): number {
    return this.#placedBlocks * this.#layout.blockSize;
  }

  place(offset: number, length: number): number[] {
    checkPlace("DynamicVhdPlacement", "a dynamic VHD", this.#finished, offset, length, this.size);
    const { blockSize, bitmapBytes } = this.#layout;
    // Blocks never touch in the file (a bitmap between): one range each.
    return unitFileRanges(offset, length, blockSize, (index) => {
      let sector = this.#blocks[index] as number;
      if (sector === 0) {
        sector = this.#cursor / 512;
        this.#blocks[index] = sector;
        this.#cursor = nextVhdBlock(this.#layout, this.#cursor);
        this.#placedBlocks++;
      }
      return sector * 512 + bitmapBytes;
    });
  }

  /**
   * Writes the placed blocks' sector bitmaps, the block allocation table, the
   * footer copy, the dynamic header and the footer after the last block, and
   * ends the sink (a seekable one over the same file). Call it once every
   * write is in place.
   */
  async finish(sink: ImageSink): Promise<WriteResult> {
    if (this.#finished) throw new TypeError("DynamicVhdPlacement.finish called twice");
    if (!sink.seekable) throw new TypeError("DynamicVhdPlacement.finish needs a seekable sink");
    this.#finished = true;
    const { entries, batOffset, batBytes, bitmapBytes, blockSize } = this.#layout;
    const bat = new Uint8Array(batBytes).fill(0xff);
    const batView = viewOf(bat);
    const bitmap = new Uint8Array(bitmapBytes).fill(0xff);
    for (let index = 0; index < entries; index++) {
      const sector = this.#blocks[index] as number;
      if (sector === 0) continue;
      batView.setUint32(index * 4, sector);
      await sink.write(sector * 512, bitmap);
    }
    await sink.write(0, this.#footer);
    await sink.write(512, buildDynamicHeader(batOffset, entries, blockSize));
    await sink.write(batOffset, bat);
    // Every block slot is a whole number of sectors: the footer follows the last.
    const end = this.#cursor;
    await sink.write(end, this.#footer);
    await sink.end(end + 512);
    return { fileSize: end + 512, virtualSize: this.size, dataBytes: this.dataBytes };
  }
}
