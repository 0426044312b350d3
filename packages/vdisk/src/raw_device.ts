import type { BlockDevice } from "@bigfile/blockdev";
import { ImageDevice, type ImageInfo } from "./image_device.ts";

/**
 * A raw image as an {@linkcode ImageDevice}: the file's bytes are the disk.
 *
 * @example Usage
 * ```ts
 * import { MemoryDevice } from "@bigfile/blockdev";
 * import { RawDevice } from "@bigfile/vdisk";
 * const disk = new RawDevice(new MemoryDevice(new Uint8Array(4096)));
 * (await disk.info()).format; // "raw"
 * ```
 */
export class RawDevice extends ImageDevice {
  readonly format = "raw" as const;
  constructor(file: BlockDevice) {
    super(file, file.size, 1 << 20);
  }
  protected async readUnit(index: number): Promise<Uint8Array | undefined> {
    const at = index * this.unitSize;
    const data = await this.file.read(at, Math.min(this.unitSize, this.size - at));
    if (data.length === this.unitSize) return data;
    const full = new Uint8Array(this.unitSize);
    full.set(data);
    return full;
  }
  isAllocated(): Promise<boolean> {
    return Promise.resolve(true);
  }
  info(): Promise<ImageInfo> {
    return Promise.resolve({
      format: "raw",
      virtualSize: this.size,
      fileSize: this.file.size,
      clusterSize: this.unitSize,
      allocatedBytes: this.size,
      compressed: false,
      details: {},
    });
  }
}
