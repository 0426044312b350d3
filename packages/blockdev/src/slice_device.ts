import { assertInRange, type BlockDevice, DeviceRangeError } from "./block_device.ts";

/** Options for {@linkcode SliceDevice}: what `losetup -o/--sizelimit` takes. */
export interface SliceOptions {
  /** Start of the window in the parent, in bytes. */
  offset: number;
  /** Length of the window in bytes. @default the rest of the parent */
  length?: number;
}

/**
 * A window onto another device: a partition inside a disk image, without a
 * loop device. Accesses outside the window throw {@linkcode DeviceRangeError}
 * with offsets relative to the window. Closing a slice leaves the parent open.
 *
 * @example Usage
 * ```ts
 * import { MemoryDevice, SliceDevice } from "@bigfile/blockdev";
 * const disk = new MemoryDevice(new Uint8Array(65536));
 * const part = new SliceDevice(disk, { offset: 32256, length: 1024 });
 * await part.write(0, new Uint8Array([1])); // disk byte 32256
 * ```
 */
export class SliceDevice implements BlockDevice {
  readonly size: number;
  readonly offset: number;
  readonly #parent: BlockDevice;

  constructor(parent: BlockDevice, options: SliceOptions) {
    const { offset } = options;
    const length = options.length ?? parent.size - offset;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > parent.size) {
      throw new DeviceRangeError("read", offset, length, parent.size);
    }
    if (!Number.isSafeInteger(length) || length < 0 || offset + length > parent.size) {
      throw new RangeError(
        `Cannot make a slice of ${length} bytes at offset ${offset}: the device holds ${parent.size} bytes, ${parent.size - offset} from that offset`,
      );
    }
    this.#parent = parent;
    this.offset = offset;
    this.size = length;
  }

  get sectorSize(): number {
    return this.#parent.sectorSize;
  }

  get readOnly(): boolean {
    return this.#parent.readOnly;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    assertInRange("read", offset, length, this.size);
    return this.#parent.read(this.offset + offset, length);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    assertInRange("write", offset, data.length, this.size);
    return this.#parent.write(this.offset + offset, data);
  }

  flush(): Promise<void> {
    return this.#parent.flush();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
