import { assertInRange, type BlockDevice } from "./block_device.ts";

/** Options for {@linkcode BlobDevice}. */
export interface BlobDeviceOptions {
  /** Logical sector size. @default 512 */
  sectorSize?: number;
}

/**
 * A read-only block device over a `Blob`: a `File` a user picked in a browser,
 * or Node's `fs.openAsBlob()`. Each read slices the blob and reads only that
 * slice, so a 4 GB image is never loaded whole. `bytesRead` and `reads` count
 * what was fetched, to show that a page stayed within its budget.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { BlobDevice } from "@bigfile/blockdev";
 * const image = new Uint8Array(1024);
 * image.set([0x55, 0xaa], 510);
 * // In a browser: new BlobDevice(input.files[0]), the File the user chose.
 * const disk = new BlobDevice(new Blob([image]));
 * const sector0 = await disk.read(0, 512);
 * assert.deepEqual([...sector0.subarray(510)], [0x55, 0xaa]);
 * assert.equal(disk.bytesRead, 512); // one slice of the Blob, not the whole of it
 * ```
 */
export class BlobDevice implements BlockDevice {
  readonly size: number;
  readonly sectorSize: number;
  readonly readOnly = true;
  #blob: Blob;
  #closed = false;
  #bytesRead = 0;
  #reads = 0;

  constructor(blob: Blob, options: BlobDeviceOptions = {}) {
    const sectorSize = options.sectorSize ?? 512;
    if (!Number.isInteger(sectorSize) || sectorSize < 1) {
      throw new RangeError(
        `Cannot use a sector size of ${sectorSize}: it must be a positive integer`,
      );
    }
    this.#blob = blob;
    this.size = blob.size;
    this.sectorSize = sectorSize;
  }

  /** Bytes fetched from the blob so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Number of slices read so far. */
  get reads(): number {
    return this.#reads;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.#assertOpen();
    assertInRange("read", offset, length, this.size);
    const buffer = await this.#blob.slice(offset, offset + length).arrayBuffer();
    // A blob whose backing file shrank under it returns fewer bytes: never hand back a short read.
    if (buffer.byteLength !== length) {
      throw new RangeError(
        `Cannot read ${length} bytes at offset ${offset}: the blob gave ${buffer.byteLength} (did the file change?)`,
      );
    }
    this.#bytesRead += length;
    this.#reads++;
    return new Uint8Array(buffer);
  }

  write(_offset: number, _data: Uint8Array): Promise<void> {
    return Promise.reject(new TypeError("Cannot write: a Blob is read-only"));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #assertOpen(): void {
    if (this.#closed) throw new TypeError("Cannot use a closed device");
  }
}
