import { assertInRange, type BlockDevice } from "./block_device.ts";

/** Options for {@linkcode MemoryDevice}. */
export interface MemoryDeviceOptions {
  /** Logical sector size. @default 512 */
  sectorSize?: number;
  /** Refuse writes. @default false */
  readOnly?: boolean;
}

/**
 * A block device over a `Uint8Array`, for tests and small metadata images.
 *
 * @example Usage
 * ```ts
 * import { MemoryDevice } from "@bigfile/blockdev";
 * const dev = new MemoryDevice(new Uint8Array(1024));
 * await dev.write(510, new Uint8Array([0x55, 0xaa]));
 * (await dev.read(510, 2))[1]; // 0xaa
 * ```
 */
export class MemoryDevice implements BlockDevice {
  readonly size: number;
  readonly sectorSize: number;
  readonly readOnly: boolean;
  #bytes: Uint8Array;
  #closed = false;

  constructor(bytes: Uint8Array, options: MemoryDeviceOptions = {}) {
    this.#bytes = bytes;
    this.size = bytes.length;
    this.sectorSize = options.sectorSize ?? 512;
    this.readOnly = options.readOnly ?? false;
  }

  /** The backing bytes (shared, not copied). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.#assertOpen();
    assertInRange("read", offset, length, this.size);
    return this.#bytes.slice(offset, offset + length);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.#assertOpen();
    if (this.readOnly) throw new TypeError("Cannot write: the device is read-only");
    assertInRange("write", offset, data.length, this.size);
    this.#bytes.set(data, offset);
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
