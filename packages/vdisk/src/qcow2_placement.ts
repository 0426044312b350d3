import type { ImagePlacement } from "@bigfile/blockdev";
import { checkPlace, unitFileRanges } from "./_placement_ranges.ts";
import { OFFSET_MASK } from "./_qcow2_format.ts";
import { Qcow2Tables, qcow2Shape } from "./_qcow2_tables.ts";
import type { ImageSink, WriteResult } from "./image_sink.ts";

/** Options for {@linkcode Qcow2Placement}. */
export interface Qcow2PlacementOptions {
  /** Cluster size in bytes: a power of two from 512 to 2 MiB. @default 65536 */
  clusterSize?: number;
}

/**
 * A qcow2 file written by position, as a raw image would be: each write of a
 * part of the disk asks {@linkcode Qcow2Placement.place} where it goes, and a
 * guest cluster gets the next host cluster the first time it is written (the
 * order of the calls, so the same writes give the same file). Clusters never
 * written take no room. {@linkcode Qcow2Placement.finish} then appends the
 * tables and writes the header. This is how `bigfile build --format qcow2`
 * lets its copy threads write file contents straight into the qcow2 file
 * (blockdev's `ImagePlacement`: `writeToFd`, `CopyPool.attach`). Writes must
 * go into an empty file that reads as zeros where nothing was written; a
 * cluster written only in part reads as zeros in the rest. Memory: 8 bytes a
 * guest cluster for each 512 MiB region written to (at 64 KiB clusters).
 *
 * @example A 4 GB disk with a boot sector and 1 MiB of data
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeSync } from "node:fs";
 * import { openImage, Qcow2Placement } from "@bigfile/vdisk";
 * import { FileDevice, writeNonZeroBlocks } from "@bigfile/blockdev/node";
 * import { writeImageFile } from "@bigfile/vdisk/node";
 * const placement = new Qcow2Placement(4141875200);
 * const mbr = new Uint8Array(512);
 * mbr.set([0x55, 0xaa], 510);
 * await writeImageFile("disk.qcow2", async (sink) => {
 *   writeNonZeroBlocks(sink.fd, mbr, 0, 512, placement);
 *   const [position, length] = placement.place(32256, 1 << 20); // two ranges: 32256 is mid-cluster
 *   writeSync(sink.fd, new Uint8Array(length as number).fill(1), 0, length, position);
 *   return placement.finish(sink);
 * });
 * const disk = await openImage(await FileDevice.open("disk.qcow2", { readOnly: true }));
 * assert.deepEqual([...(await disk.read(510, 2))], [0x55, 0xaa]);
 * assert.equal((await disk.read(32256, 1))[0], 1);
 * await disk.close();
 * ```
 */
export class Qcow2Placement implements ImagePlacement {
  /** The disk's size in bytes (rounded up to whole sectors, as QEMU counts). */
  readonly size: number;
  readonly clusterSize: number;
  readonly #tables: Qcow2Tables;
  #finished = false;

  constructor(size: number, options: Qcow2PlacementOptions = {}) {
    const shape = qcow2Shape(size, options.clusterSize ?? 65536);
    this.size = shape.size;
    this.clusterSize = shape.clusterSize;
    this.#tables = new Qcow2Tables(shape);
  }

  /** Bytes of data clusters placed so far. */
  get dataBytes(): number {
    return this.#tables.cursor - this.clusterSize;
  }

  place(offset: number, length: number): number[] {
    checkPlace("Qcow2Placement", "a qcow2 disk", this.#finished, offset, length, this.size);
    return unitFileRanges(offset, length, this.clusterSize, (index) => {
      const entry = this.#tables.entry(index);
      return entry === 0n ? this.#tables.appendCluster(index) : Number(entry & OFFSET_MASK);
    });
  }

  /**
   * Appends the L2 tables, the L1 table and the refcounts after the placed
   * clusters, writes the header and ends the sink (a seekable one over the
   * same file). Call it once every write is in place.
   */
  async finish(sink: ImageSink): Promise<WriteResult> {
    if (this.#finished) throw new TypeError("Qcow2Placement.finish called twice");
    if (!sink.seekable) throw new TypeError("Qcow2Placement.finish needs a seekable sink");
    this.#finished = true;
    const dataBytes = this.dataBytes;
    const fileSize = await this.#tables.write(sink);
    return { fileSize, virtualSize: this.size, dataBytes };
  }
}
