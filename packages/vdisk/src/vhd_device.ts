import type { BlockDevice } from "@bigfile/blockdev";
import { ascii, getU64, viewOf } from "./_bytes.ts";
import {
  DISK_TYPE_DIFFERENCING,
  DISK_TYPE_DYNAMIC,
  DISK_TYPE_FIXED,
  DYNAMIC_COOKIE,
  FOOTER_COOKIE,
  UNUSED_BAT_ENTRY,
  vhdChecksum,
} from "./_vhd_format.ts";
import { ImageFormatError, UnsupportedImageError } from "./errors.ts";
import { type HostRange, ImageDevice, type ImageInfo } from "./image_device.ts";

/** Largest block size read (one block is held in memory at a time). */
const MAX_BLOCK_SIZE = 32 << 20;
/** Largest block allocation table read (entries). */
const MAX_BAT_ENTRIES = 4 << 20;

/**
 * A VHD image (fixed or dynamic) read as the virtual disk it holds; the size
 * is the footer's current size (as Hyper-V and VirtualBox read it). Footer
 * and dynamic header checksums, the block table and every block offset are
 * checked; differencing disks are refused.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { FileDevice } from "@bigfile/blockdev/node";
 * import { VhdDevice, writeImage } from "@bigfile/vdisk";
 * import { rawFileImage, writeImageFile } from "@bigfile/vdisk/node";
 * const raw = new Uint8Array(4 << 20); // a 4 MiB disk: a boot signature and zeros
 * raw.set([0x55, 0xaa], 510);
 * await writeFile("big.img", raw);
 * await writeImageFile("disk.vhd", (sink) => writeImage(rawFileImage("big.img"), "vhd", sink));
 * const disk = await VhdDevice.open(await FileDevice.open("disk.vhd", { readOnly: true }));
 * assert.equal(disk.format, "vhd");
 * assert.deepEqual([...(await disk.read(510, 2))], [0x55, 0xaa]);
 * await disk.close();
 * ```
 */
export class VhdDevice extends ImageDevice {
  readonly format: "vhd" | "vhd-fixed";
  readonly creatorApp: string;
  #bat: DataView | undefined;
  #batOffset: number;
  #bitmapBytes: number;

  private constructor(
    file: BlockDevice,
    size: number,
    unit: number,
    creatorApp: string,
    bat?: Uint8Array,
    batOffset = 0,
  ) {
    super(file, size, unit);
    this.format = bat ? "vhd" : "vhd-fixed";
    this.creatorApp = creatorApp;
    this.#bat = bat ? viewOf(bat) : undefined;
    this.#batOffset = batOffset;
    this.#bitmapBytes = Math.ceil(unit / 512 / 8 / 512) * 512;
  }

  /** Reads and checks the footer (and the dynamic header and table) of the VHD in `file`. */
  static async open(file: BlockDevice): Promise<VhdDevice> {
    const fail = (at: number, what: string): never => {
      throw new ImageFormatError("vhd", at, `Cannot read VHD image: ${what}`);
    };
    if (file.size < 512) fail(0, `the file is ${file.size} bytes, shorter than a footer`);
    const footerAt = file.size - 512;
    const footer = await file.read(footerAt, 512);
    const f = viewOf(footer);
    if (ascii(footer.subarray(0, 8)) !== FOOTER_COOKIE)
      fail(footerAt, "no conectix footer at the end");
    if (f.getUint32(64) !== vhdChecksum(footer, 64)) {
      fail(footerAt + 64, `footer checksum 0x${f.getUint32(64).toString(16)} is wrong`);
    }
    if (f.getUint16(12) !== 1)
      fail(footerAt + 12, `file format version ${f.getUint32(12).toString(16)}`);
    const size = getU64(f, 48);
    if (!Number.isSafeInteger(size) || size % 512 !== 0)
      fail(footerAt + 48, `current size ${size}`);
    const diskType = f.getUint32(60);
    const creatorApp = ascii(footer.subarray(28, 32));
    if (diskType === DISK_TYPE_FIXED) {
      if (size > footerAt)
        fail(footerAt + 48, `current size ${size} is past the end of the data (${footerAt})`);
      return new VhdDevice(file, size, Math.min(1 << 20, Math.max(512, size)), creatorApp);
    }
    if (diskType === DISK_TYPE_DIFFERENCING) {
      throw new UnsupportedImageError(
        "vhd",
        footerAt + 60,
        "Cannot read VHD image: it is a differencing disk (it needs its parent)",
      );
    }
    if (diskType !== DISK_TYPE_DYNAMIC) fail(footerAt + 60, `disk type ${diskType}`);
    const headerAt = getU64(f, 16);
    if (headerAt % 512 !== 0 || headerAt + 1024 > footerAt) {
      fail(footerAt + 16, `dynamic header offset ${headerAt} is outside the file`);
    }
    const header = await file.read(headerAt, 1024);
    const h = viewOf(header);
    if (ascii(header.subarray(0, 8)) !== DYNAMIC_COOKIE)
      fail(headerAt, "no cxsparse dynamic header");
    if (h.getUint32(36) !== vhdChecksum(header, 36))
      fail(headerAt + 36, "dynamic header checksum is wrong");
    const blockSize = h.getUint32(32);
    if (blockSize < 4096 || blockSize > MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) {
      fail(headerAt + 32, `block size ${blockSize} (expected a power of two from 4 KiB to 32 MiB)`);
    }
    const entries = h.getUint32(28);
    const needed = Math.ceil(size / blockSize);
    if (entries < needed || entries > MAX_BAT_ENTRIES) {
      fail(headerAt + 28, `max table entries ${entries} (the disk needs ${needed})`);
    }
    const batAt = getU64(h, 16);
    if (batAt % 512 !== 0 || batAt + needed * 4 > footerAt) {
      fail(headerAt + 16, `block table offset ${batAt} is outside the file`);
    }
    const bat = await file.read(batAt, needed * 4);
    return new VhdDevice(file, size, blockSize, creatorApp, bat, batAt);
  }

  #entry(index: number): number {
    return this.#bat ? this.#bat.getUint32(index * 4) : 0;
  }

  isAllocated(index: number): Promise<boolean> {
    return Promise.resolve(!this.#bat || this.#entry(index) !== UNUSED_BAT_ENTRY);
  }

  protected async readUnit(index: number): Promise<Uint8Array | undefined> {
    const unit = this.unitSize;
    if (!this.#bat) {
      const at = index * unit;
      const data = await this.file.read(at, Math.min(unit, this.size - at));
      if (data.length === unit) return data;
      const full = new Uint8Array(unit);
      full.set(data);
      return full;
    }
    const entry = this.#entry(index);
    if (entry === UNUSED_BAT_ENTRY) return undefined;
    const start = this.#blockStart(index, entry);
    const bitmap = await this.file.read(start, this.#bitmapBytes);
    const data = await this.file.read(start + this.#bitmapBytes, unit);
    // Sectors whose bit is clear are not in the block: they read as zeros.
    for (let s = 0; s < unit / 512; s++) {
      if (((bitmap[s >> 3] as number) & (0x80 >> (s & 7))) === 0)
        data.fill(0, s * 512, s * 512 + 512);
    }
    return data;
  }

  /** Where block `index` (its sector bitmap, then its data) starts in the file, checked. */
  #blockStart(index: number, entry: number): number {
    const start = entry * 512;
    if (start < 512 || start + this.#bitmapBytes + this.unitSize > this.file.size - 512) {
      throw new ImageFormatError(
        "vhd",
        this.#batOffset + index * 4,
        `Cannot read VHD image: block ${index} at sector ${entry} is outside the file`,
      );
    }
    return start;
  }

  /** A fixed disk is the file itself; a dynamic block's sectors are in the file where its bitmap says, zeros elsewhere. */
  protected override async unitRanges(index: number): Promise<HostRange[]> {
    const unit = this.unitSize;
    if (!this.#bat) {
      const at = index * unit;
      const available = Math.min(unit, this.size - at);
      const pieces: HostRange[] = [{ offset: 0, length: available, kind: "file", host: at }];
      if (available < unit) {
        pieces.push({ offset: available, length: unit - available, kind: "zero", host: -1 });
      }
      return pieces;
    }
    const entry = this.#entry(index);
    if (entry === UNUSED_BAT_ENTRY) return [{ offset: 0, length: unit, kind: "zero", host: -1 }];
    const start = this.#blockStart(index, entry);
    const data = start + this.#bitmapBytes;
    const bitmap = await this.file.read(start, this.#bitmapBytes);
    const pieces: HostRange[] = [];
    for (let s = 0; s < unit / 512; s++) {
      const kind = ((bitmap[s >> 3] as number) & (0x80 >> (s & 7))) === 0 ? "zero" : "file";
      const last = pieces.at(-1);
      if (last?.kind === kind) last.length += 512;
      else
        pieces.push({
          offset: s * 512,
          length: 512,
          kind,
          host: kind === "file" ? data + s * 512 : -1,
        });
    }
    return pieces;
  }

  async info(): Promise<ImageInfo> {
    const allocated = await this.countAllocated();
    return {
      format: this.format,
      virtualSize: this.size,
      fileSize: this.file.size,
      clusterSize: this.unitSize,
      allocatedBytes: this.#bat ? Math.min(this.size, allocated * this.unitSize) : this.size,
      compressed: false,
      details: {
        subformat: this.#bat ? "dynamic" : "fixed",
        creator: this.creatorApp.replace(/\0/g, "").trim(),
        alignedToMiB: this.size % (1 << 20) === 0,
      },
    };
  }
}
