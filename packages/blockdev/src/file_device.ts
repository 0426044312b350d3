import { readSync } from "node:fs";
import { constants, type FileHandle, open } from "node:fs/promises";
import { assertInRange, type BlockDevice } from "./block_device.ts";

/** Options for {@linkcode FileDevice.open}. */
export interface FileDeviceOptions {
  /** Open for reading only. @default false */
  readOnly?: boolean;
  /** Logical sector size. @default 512 */
  sectorSize?: number;
  /**
   * Read with blocking calls on the calling thread (`readSync`) rather than
   * on libuv's thread pool: for one consumer reading a file that is in the
   * page cache, such as a command line converting an image, a pool round
   * trip per read costs more than the copy. @default false
   */
  blocking?: boolean;
}

/**
 * A block device over a regular file (or a real block device node), with
 * positional I/O: a disk image that never grows or shrinks behind your back.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { SliceDevice } from "@bigfile/blockdev";
 * import { FileDevice } from "@bigfile/blockdev/node";
 * await writeFile("big.img", new Uint8Array(1 << 20));
 * const disk = await FileDevice.open("big.img");
 * const part1 = new SliceDevice(disk, { offset: 32256, length: disk.size - 32256 });
 * await part1.write(0, new TextEncoder().encode("hello"));
 * assert.equal(new TextDecoder().decode(await disk.read(32256, 5)), "hello");
 * await disk.close();
 * ```
 */
export class FileDevice implements BlockDevice {
  readonly size: number;
  readonly sectorSize: number;
  readonly readOnly: boolean;
  readonly path: string;
  #handle: FileHandle;
  readonly #blocking: boolean;

  private constructor(path: string, handle: FileHandle, size: number, options: FileDeviceOptions) {
    this.path = path;
    this.#handle = handle;
    this.#blocking = options.blocking ?? false;
    this.size = size;
    this.sectorSize = options.sectorSize ?? 512;
    this.readOnly = options.readOnly ?? false;
  }

  /** Opens an existing file; never creates or truncates it. */
  static async open(path: string, options: FileDeviceOptions = {}): Promise<FileDevice> {
    const flags = options.readOnly ? constants.O_RDONLY : constants.O_RDWR;
    const handle = await open(path, flags);
    try {
      const stat = await handle.stat();
      if (stat.isDirectory()) {
        throw Object.assign(new Error(`Cannot open '${path}' as a device: it is a directory`), {
          code: "EISDIR",
        });
      }
      let size = stat.size;
      if (stat.isBlockDevice()) size = await seekEndSize(handle);
      return new FileDevice(path, handle, size, options);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    assertInRange("read", offset, length, this.size);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const bytesRead = this.#blocking
        ? readSync(this.#handle.fd, out, done, length - done, offset + done)
        : (await this.#handle.read(out, done, length - done, offset + done)).bytesRead;
      if (bytesRead === 0)
        throw new RangeError(`Cannot read at offset ${offset + done}: '${this.path}' shrank`);
      done += bytesRead;
    }
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw new TypeError(`Cannot write to '${this.path}': opened read-only`);
    assertInRange("write", offset, data.length, this.size);
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.#handle.write(
        data,
        done,
        data.length - done,
        offset + done,
      );
      done += bytesWritten;
    }
  }

  async flush(): Promise<void> {
    if (!this.readOnly) await this.#handle.datasync();
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/** A block device node's size, found by reading until the end is hit in big steps. */
async function seekEndSize(handle: FileHandle): Promise<number> {
  const probe = new Uint8Array(1);
  let low = 0;
  let high = 1;
  while ((await handle.read(probe, 0, 1, high - 1)).bytesRead === 1) {
    low = high;
    high *= 2;
  }
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if ((await handle.read(probe, 0, 1, mid - 1)).bytesRead === 1) low = mid;
    else high = mid;
  }
  return low;
}
