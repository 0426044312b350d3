import type { BlockDevice } from "@bigfile/blockdev";
import { ascii, getU64, viewOf } from "./_bytes.ts";
import { UNIT_PIECES, UNIT_ZERO } from "./_unit_places.ts";
import {
  FLAG_COMPRESSED,
  FLAG_MARKERS,
  GD_AT_END,
  KNOWN_FLAGS,
  MARKER_FOOTER,
  VMDK_MAGIC,
} from "./_vmdk_format.ts";
import { type Codecs, withCodecs } from "./codecs.ts";
import { ImageFormatError, UnsupportedImageError } from "./errors.ts";
import { type HostRange, ImageDevice, type ImageInfo } from "./image_device.ts";
import type { ImageReadOptions } from "./qcow2_device.ts";

/** Largest grain read (one is held in memory at a time): 32 MiB. */
const MAX_GRAIN_SECTORS = 65536;
/** Largest grain directory read, in entries. */
const MAX_GD_ENTRIES = 4 << 20;
const GT_CACHE_BYTES = 16 << 20;

/**
 * A VMDK sparse extent with an embedded descriptor (monolithicSparse or
 * streamOptimized, as VMware, VirtualBox and qemu-img write them) read as the
 * virtual disk it holds. The header (or the footer of a stream), the grain
 * directory, every grain table entry and every compressed grain's marker are
 * checked against the file. Split and flat extents, and disks with a parent,
 * are refused.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { FileDevice } from "@bigfile/blockdev/node";
 * import { VmdkDevice, writeImage } from "@bigfile/vdisk";
 * import { rawFileImage, writeImageFile } from "@bigfile/vdisk/node";
 * const raw = new Uint8Array(4 << 20); // a 4 MiB disk: a boot signature and zeros
 * raw.set([0x55, 0xaa], 510);
 * await writeFile("big.img", raw);
 * await writeImageFile("disk.vmdk", (sink) => writeImage(rawFileImage("big.img"), "vmdk-stream", sink));
 * const disk = await VmdkDevice.open(await FileDevice.open("disk.vmdk", { readOnly: true }));
 * assert.equal(disk.format, "vmdk-stream");
 * assert.deepEqual([...(await disk.read(510, 2))], [0x55, 0xaa]);
 * await disk.close();
 * ```
 */
export class VmdkDevice extends ImageDevice {
  readonly format: "vmdk" | "vmdk-stream";
  /** The createType of the embedded descriptor ("" if none). */
  readonly createType: string;
  #flags: number;
  #gd: DataView;
  #gdOffset: number;
  #gtes: number;
  #gtCache = new Map<number, DataView>();
  #gtLimit: number;
  #codecs: Codecs;

  private constructor(
    file: BlockDevice,
    size: number,
    grainBytes: number,
    flags: number,
    createType: string,
    gd: Uint8Array,
    gdOffset: number,
    gtes: number,
    codecs: Codecs,
  ) {
    super(file, size, grainBytes);
    this.#codecs = codecs;
    this.#flags = flags;
    this.createType = createType;
    this.format = flags & FLAG_COMPRESSED ? "vmdk-stream" : "vmdk";
    this.#gd = viewOf(gd);
    this.#gdOffset = gdOffset;
    this.#gtes = gtes;
    this.#gtLimit = Math.max(1, Math.floor(GT_CACHE_BYTES / (gtes * 4)));
  }

  /** Reads and checks the header (or footer), descriptor and grain directory of the VMDK in `file`. */
  static async open(file: BlockDevice, options: ImageReadOptions = {}): Promise<VmdkDevice> {
    const fail = (at: number, what: string): never => {
      throw new ImageFormatError("vmdk", at, `Cannot read VMDK image: ${what}`);
    };
    if (file.size < 512) fail(0, `the file is ${file.size} bytes, shorter than a header`);
    let header = await file.read(0, 512);
    let h = viewOf(header);
    if (h.getUint32(0, true) !== VMDK_MAGIC) {
      if (ascii(header.subarray(0, 21)) === "# Disk DescriptorFile") {
        throw new UnsupportedImageError(
          "vmdk",
          0,
          "Cannot read VMDK image: it is a descriptor whose extents are other files; open the extent, or convert with qemu-img",
        );
      }
      fail(0, "no KDMV magic");
    }
    let base = 0;
    if (h.getBigUint64(56, true) === GD_AT_END) {
      // A stream: the footer (a copy of the header with the directory's offset) sits before the end-of-stream marker.
      if (!(h.getUint32(8, true) & FLAG_MARKERS) || file.size < 2048) {
        fail(56, "the grain directory is at the end but the image has no footer");
      }
      const marker = viewOf(await file.read(file.size - 1536, 512));
      if (marker.getUint32(12, true) !== MARKER_FOOTER || marker.getUint32(8, true) !== 0) {
        fail(file.size - 1536, "no footer marker before the end-of-stream marker");
      }
      base = file.size - 1024;
      header = await file.read(base, 512);
      h = viewOf(header);
      if (h.getUint32(0, true) !== VMDK_MAGIC) fail(base, "the footer has no KDMV magic");
    }
    const version = h.getUint32(4, true);
    if (version < 1 || version > 3) fail(base + 4, `version ${version} (expected 1 to 3)`);
    const flags = h.getUint32(8, true);
    if (flags & ~KNOWN_FLAGS) fail(base + 8, `unknown flags 0x${flags.toString(16)}`);
    const capacity = getU64(h, 12, true);
    const grainSectors = getU64(h, 20, true);
    if (
      grainSectors < 1 ||
      grainSectors > MAX_GRAIN_SECTORS ||
      (grainSectors & (grainSectors - 1)) !== 0
    ) {
      fail(
        base + 20,
        `grain size ${grainSectors} sectors (expected a power of two up to ${MAX_GRAIN_SECTORS})`,
      );
    }
    if (!Number.isSafeInteger(capacity * 512)) fail(base + 12, `capacity ${capacity} sectors`);
    const gtes = h.getUint32(44, true);
    if (gtes < 1 || gtes > 65536) fail(base + 44, `${gtes} entries per grain table`);
    if (flags & FLAG_COMPRESSED && h.getUint16(77, true) !== 1) {
      fail(base + 77, `compression algorithm ${h.getUint16(77, true)} (expected 1, deflate)`);
    }
    const gdEntries = Math.ceil(capacity / (grainSectors * gtes));
    if (gdEntries > MAX_GD_ENTRIES)
      fail(base + 12, `capacity ${capacity} needs ${gdEntries} grain tables`);
    const gdSector = getU64(h, 56, true);
    if (gdEntries > 0 && (gdSector === 0 || gdSector * 512 + gdEntries * 4 > file.size)) {
      fail(base + 56, `grain directory at sector ${gdSector} is outside the file`);
    }
    const descriptorSector = getU64(h, 28, true);
    const descriptorSectors = getU64(h, 36, true);
    let createType = "";
    if (descriptorSector > 0) {
      if (descriptorSectors > 2048 || (descriptorSector + descriptorSectors) * 512 > file.size) {
        fail(
          base + 28,
          `descriptor at sector ${descriptorSector} (${descriptorSectors} sectors) is outside the file`,
        );
      }
      const text = ascii(await file.read(descriptorSector * 512, descriptorSectors * 512));
      createType = /createType\s*=\s*"([^"]*)"/.exec(text)?.[1] ?? "";
      const parent = /parentCID\s*=\s*([0-9a-fA-F]+)/.exec(text)?.[1];
      if (parent !== undefined && parent.toLowerCase() !== "ffffffff") {
        throw new UnsupportedImageError(
          "vmdk",
          descriptorSector * 512,
          "Cannot read VMDK image: it has a parent disk",
        );
      }
      if (createType && !["monolithicSparse", "streamOptimized"].includes(createType)) {
        throw new UnsupportedImageError(
          "vmdk",
          descriptorSector * 512,
          `Cannot read VMDK image: createType "${createType}" is not supported (monolithicSparse and streamOptimized are)`,
        );
      }
    }
    const gd = gdEntries > 0 ? await file.read(gdSector * 512, gdEntries * 4) : new Uint8Array(4);
    return new VmdkDevice(
      file,
      capacity * 512,
      grainSectors * 512,
      flags,
      createType,
      gd,
      gdSector * 512,
      gtes,
      withCodecs(options.codecs),
    );
  }

  #fail(at: number, what: string): never {
    throw new ImageFormatError("vmdk", at, `Cannot read VMDK image: ${what}`);
  }

  async #gt(index: number): Promise<DataView | undefined> {
    const cached = this.#gtCache.get(index);
    if (cached) return cached;
    const sector = this.#gd.getUint32(index * 4, true);
    if (sector === 0) return undefined;
    const bytes = this.#gtes * 4;
    if (sector * 512 + bytes > this.file.size) {
      this.#fail(
        this.#gdOffset + index * 4,
        `grain table ${index} at sector ${sector} is outside the file`,
      );
    }
    const table = viewOf(await this.file.read(sector * 512, bytes));
    if (this.#gtCache.size >= this.#gtLimit)
      this.#gtCache.delete(this.#gtCache.keys().next().value as number);
    this.#gtCache.set(index, table);
    return table;
  }

  async #gte(grain: number): Promise<number> {
    const table = await this.#gt(Math.floor(grain / this.#gtes));
    return table ? table.getUint32((grain % this.#gtes) * 4, true) : 0;
  }

  protected override async unmappedFrom(index: number): Promise<number> {
    if (await this.#gt(Math.floor(index / this.#gtes))) return 0;
    return this.#gtes - (index % this.#gtes);
  }

  async isAllocated(index: number): Promise<boolean> {
    return (await this.#gte(index)) > 1;
  }

  /** One grain table read for all the grains it maps. */
  protected override async unitPlaces(first: number, count: number): Promise<Float64Array> {
    const out = new Float64Array(count).fill(UNIT_ZERO);
    const compressed = (this.#flags & FLAG_COMPRESSED) !== 0;
    for (let i = first; i < first + count; ) {
      const table = await this.#gt(Math.floor(i / this.#gtes));
      const stop = Math.min(first + count, (Math.floor(i / this.#gtes) + 1) * this.#gtes);
      for (; table && i < stop; i++) {
        const entry = table.getUint32((i % this.#gtes) * 4, true);
        if (entry <= 1) continue; // 0: unallocated, 1: a zeroed grain
        if (compressed) out[i - first] = UNIT_PIECES;
        else if (entry * 512 + this.unitSize > this.file.size) {
          this.#fail(entry * 512, `grain ${i} at sector ${entry} is outside the file`);
        } else out[i - first] = entry * 512;
      }
      i = stop;
    }
    return out;
  }

  protected async readUnit(index: number): Promise<Uint8Array | undefined> {
    const entry = await this.#gte(index);
    if (entry <= 1) return undefined; // 0: unallocated, 1: a zeroed grain
    const grain = this.unitSize;
    const at = entry * 512;
    if (!(this.#flags & FLAG_COMPRESSED)) {
      if (at + grain > this.file.size) {
        this.#fail(at, `grain ${index} at sector ${entry} is outside the file`);
      }
      return this.file.read(at, grain);
    }
    if (at + 12 > this.file.size)
      this.#fail(at, `grain ${index} at sector ${entry} is outside the file`);
    const marker = viewOf(await this.file.read(at, 12));
    const lba = getU64(marker, 0, true);
    const length = marker.getUint32(8, true);
    if (lba !== (index * grain) / 512)
      this.#fail(at, `grain marker says sector ${lba}, expected ${(index * grain) / 512}`);
    if (length === 0 || length > grain + 4096 || at + 12 + length > this.file.size) {
      this.#fail(at + 8, `compressed grain ${index} of ${length} bytes does not fit`);
    }
    const data = await this.#codecs.zlibInflate(await this.file.read(at + 12, length), grain);
    if (!data) this.#fail(at + 12, `compressed grain ${index} does not inflate`);
    if (data.length === grain) return data;
    const full = new Uint8Array(grain);
    full.set(data);
    return full;
  }

  /** A monolithicSparse grain is in the file, a stream's is compressed (read); entries 0 and 1 are zeros. */
  protected override async unitRanges(index: number): Promise<HostRange[]> {
    const grain = this.unitSize;
    const entry = await this.#gte(index);
    if (entry <= 1) return [{ offset: 0, length: grain, kind: "zero", host: -1 }];
    if (this.#flags & FLAG_COMPRESSED)
      return [{ offset: 0, length: grain, kind: "read", host: -1 }];
    const at = entry * 512;
    if (at + grain > this.file.size) {
      this.#fail(at, `grain ${index} at sector ${entry} is outside the file`);
    }
    return [{ offset: 0, length: grain, kind: "file", host: at }];
  }

  async info(): Promise<ImageInfo> {
    const allocated = await this.countByTables(this.#gtes, async (t) => {
      await this.#gt(t);
      const sector = this.#gd.getUint32(t * 4, true);
      return sector === 0 ? undefined : sector;
    });
    return {
      format: this.format,
      virtualSize: this.size,
      fileSize: this.file.size,
      clusterSize: this.unitSize,
      allocatedBytes: Math.min(this.size, allocated * this.unitSize),
      compressed: (this.#flags & FLAG_COMPRESSED) !== 0,
      details: {
        createType:
          this.createType || (this.format === "vmdk" ? "monolithicSparse" : "streamOptimized"),
      },
    };
  }
}
