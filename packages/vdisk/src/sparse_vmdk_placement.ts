import type { ImagePlacement } from "@bigfile/blockdev";
import { viewOf } from "./_bytes.ts";
import { checkPlace, unitFileRanges } from "./_placement_ranges.ts";
import { buildDescriptor, DESCRIPTOR_SECTORS, GRAIN_SECTORS, GTES_PER_GT } from "./_vmdk_format.ts";
import {
  sparseGrainDirectory,
  sparseVmdkHeader,
  type VmdkExtentLayout,
  vmdkExtentLayout,
} from "./_vmdk_layout.ts";
import type { ImageSink, WriteResult } from "./image_sink.ts";
import type { VmdkWriteOptions } from "./vmdk_writer.ts";

/** Options for {@linkcode SparseVmdkPlacement}: the descriptor's, as {@linkcode writeVmdk} takes them. */
export type SparseVmdkPlacementOptions = Pick<VmdkWriteOptions, "extentName" | "cid">;

/** Grain offsets are 32-bit sector numbers: grains must lie in the file's first 2 TiB. */
const MAX_SECTOR = 2 ** 32;

/**
 * A monolithicSparse VMDK written by position, as a raw image would be: each
 * write of a part of the disk asks {@linkcode SparseVmdkPlacement.place}
 * where it goes, and a 64 KiB grain gets the next grain of the file the first
 * time any byte of it is written (the order of the calls, so the same writes
 * give the same file). Grains never written take no room. The metadata comes
 * first, as `writeVmdk` lays it out (header, embedded descriptor, grain
 * directory, every grain table preallocated); {@linkcode
 * SparseVmdkPlacement.finish} fills it in. blockdev's `ImagePlacement`, as
 * {@linkcode Qcow2Placement} is; `bigfile build --format vmdk` writes through
 * it. Writes must go into an empty file that reads as zeros where nothing
 * was written. Memory: a 2 KiB grain table for each 32 MiB of the disk
 * written to.
 *
 * @example A 4 GB disk with a boot sector and 1 MiB of data
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeSync } from "node:fs";
 * import { openImage, SparseVmdkPlacement } from "@bigfile/vdisk";
 * import { FileDevice, writeNonZeroBlocks } from "@bigfile/blockdev/node";
 * import { writeImageFile } from "@bigfile/vdisk/node";
 * const placement = new SparseVmdkPlacement(4141875200, { extentName: "disk.vmdk" });
 * const mbr = new Uint8Array(512);
 * mbr.set([0x55, 0xaa], 510);
 * await writeImageFile("disk.vmdk", async (sink) => {
 *   writeNonZeroBlocks(sink.fd, mbr, 0, 512, placement);
 *   // 32256 is mid-grain: the rest of grain 0, then grains 1 to 16 after it, one range.
 *   const [position, length] = placement.place(32256, 1 << 20);
 *   assert.equal(length, 1 << 20);
 *   writeSync(sink.fd, new Uint8Array(length).fill(1), 0, length, position);
 *   return placement.finish(sink);
 * });
 * const disk = await openImage(await FileDevice.open("disk.vmdk", { readOnly: true }));
 * assert.deepEqual([...(await disk.read(510, 2))], [0x55, 0xaa]);
 * assert.equal((await disk.read(32256, 1))[0], 1);
 * await disk.close();
 * ```
 */
export class SparseVmdkPlacement implements ImagePlacement {
  /** The disk's size in bytes (rounded up to whole sectors). */
  readonly size: number;
  readonly #layout: VmdkExtentLayout;
  readonly #extentName: string;
  readonly #cid: number;
  /** The grain tables written to, by index: each grain's sector in the file, 0 for none. */
  readonly #tables = new Map<number, Uint32Array>();
  /** The next grain's sector. */
  #cursor: number;
  #finished = false;

  constructor(size: number, options: SparseVmdkPlacementOptions = {}) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`Cannot write a VMDK of ${size} bytes: expected a non-negative integer`);
    }
    this.#layout = vmdkExtentLayout(size);
    this.size = this.#layout.capacity * 512;
    this.#extentName = options.extentName ?? "disk.vmdk";
    this.#cid = options.cid ?? crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
    this.#cursor = this.#layout.sparseOverhead;
  }

  /** Bytes of grains placed so far. */
  get dataBytes(): number {
    return (this.#cursor - this.#layout.sparseOverhead) * 512;
  }

  place(offset: number, length: number): number[] {
    checkPlace("SparseVmdkPlacement", "a VMDK disk", this.#finished, offset, length, this.size);
    return unitFileRanges(
      offset,
      length,
      GRAIN_SECTORS * 512,
      (grain) => this.#grainSector(grain, offset, length) * 512,
    );
  }

  /** Where grain `grain` is in the file, in sectors: placed now if it was not yet. */
  #grainSector(grain: number, offset: number, length: number): number {
    const index = Math.floor(grain / GTES_PER_GT);
    let table = this.#tables.get(index);
    if (!table) {
      table = new Uint32Array(GTES_PER_GT);
      this.#tables.set(index, table);
    }
    const entry = grain % GTES_PER_GT;
    if (table[entry] === 0) {
      if (this.#cursor + GRAIN_SECTORS > MAX_SECTOR) {
        throw new RangeError(
          `Cannot place ${length} bytes at ${offset}: a VMDK's grains must lie in the first 2 TiB of its file`,
        );
      }
      table[entry] = this.#cursor;
      this.#cursor += GRAIN_SECTORS;
    }
    return table[entry] as number;
  }

  /**
   * Writes the header, the embedded descriptor, the grain directory and the
   * grain tables written to (the others stay zeros: no grain), and ends the
   * sink (a seekable one over the same file) after the last grain. Call it
   * once every write is in place.
   */
  async finish(sink: ImageSink): Promise<WriteResult> {
    if (this.#finished) throw new TypeError("SparseVmdkPlacement.finish called twice");
    if (!sink.seekable) throw new TypeError("SparseVmdkPlacement.finish needs a seekable sink");
    this.#finished = true;
    const layout = this.#layout;
    await sink.write(0, sparseVmdkHeader(layout));
    await sink.write(
      512,
      buildDescriptor(
        layout.capacity,
        "monolithicSparse",
        this.#extentName,
        this.#cid,
        DESCRIPTOR_SECTORS,
      ),
    );
    await sink.write(layout.gdOffset * 512, sparseGrainDirectory(layout));
    for (const [index, table] of this.#tables) {
      const bytes = new Uint8Array(layout.gtSectors * 512);
      const view = viewOf(bytes);
      for (let i = 0; i < table.length; i++) view.setUint32(i * 4, table[i] as number, true);
      await sink.write((layout.gtsOffset + index * layout.gtSectors) * 512, bytes);
    }
    const fileSize = this.#cursor * 512;
    await sink.end(fileSize);
    return { fileSize, virtualSize: this.size, dataBytes: this.dataBytes };
  }
}
