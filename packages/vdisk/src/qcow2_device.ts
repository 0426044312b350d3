import type { BlockDevice } from "@bigfile/blockdev";
import { getU64, viewOf } from "./_bytes.ts";
import {
  COMPRESSED,
  COPIED,
  MAX_L1_BYTES,
  MAX_REFCOUNT_TABLE_BYTES,
  OFFSET_MASK,
  QCOW2_MAGIC,
  ZERO_FLAG,
} from "./_qcow2_format.ts";
import { UNIT_PIECES, UNIT_ZERO } from "./_unit_places.ts";
import { type Codecs, withCodecs } from "./codecs.ts";
import { ImageFormatError, UnsupportedImageError } from "./errors.ts";
import { type HostRange, ImageDevice, type ImageInfo } from "./image_device.ts";

const KNOWN_INCOMPATIBLE = 0x1fn;
/** L2 tables kept in memory, in bytes. */
const L2_CACHE_BYTES = 16 << 20;

/** Options for the readers of compressed formats ({@linkcode Qcow2Device.open}, `VmdkDevice.open`). */
export interface ImageReadOptions {
  /**
   * How to decompress clusters and grains: over the Web defaults
   * (`DecompressionStream`; no zstd). `@bigfile/vdisk/node` has `nodeCodecs`
   * (node:zlib, faster, zstd on Node >= 22.15). @default webCodecs
   */
  codecs?: Partial<Codecs>;
}

/**
 * A qcow2 image (version 2 or 3) read as the virtual disk it holds. Every
 * header field and table entry is checked against the file: a bad one ends
 * in an {@linkcode ImageFormatError} with its offset. Backing files,
 * encryption, external data files and extended L2 entries are refused with
 * an {@linkcode UnsupportedImageError}; so are zstd-compressed clusters when
 * the codecs have no zstd (the Web's have none; Node's from 22.15), when one is read.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { FileDevice } from "@bigfile/blockdev/node";
 * import { Qcow2Device, writeImage } from "@bigfile/vdisk";
 * import { rawFileImage, writeImageFile } from "@bigfile/vdisk/node";
 * const raw = new Uint8Array(4 << 20); // a 4 MiB disk: a boot signature and zeros
 * raw.set([0x55, 0xaa], 510);
 * await writeFile("big.img", raw);
 * await writeImageFile("disk.qcow2", (sink) => writeImage(rawFileImage("big.img"), "qcow2", sink));
 * const disk = await Qcow2Device.open(await FileDevice.open("disk.qcow2", { readOnly: true }));
 * const mbr = await disk.read(0, 512);
 * assert.deepEqual([mbr[510], mbr[511]], [0x55, 0xaa]);
 * await disk.close();
 * ```
 */
export class Qcow2Device extends ImageDevice {
  readonly format = "qcow2" as const;
  readonly version: number;
  readonly clusterBits: number;
  #l1: DataView;
  #l1Offset: number;
  #l2Cache = new Map<number, DataView>();
  #l2Limit: number;
  #offsetBits: number;
  #compressedSeen = false;
  /** How compressed clusters are compressed (header byte 104). */
  readonly compression: "zlib" | "zstd";
  #codecs: Codecs;

  private constructor(
    file: BlockDevice,
    size: number,
    version: number,
    clusterBits: number,
    l1: Uint8Array,
    l1Offset: number,
    compression: "zlib" | "zstd",
    codecs: Codecs,
  ) {
    super(file, size, 2 ** clusterBits);
    this.#codecs = codecs;
    this.compression = compression;
    this.version = version;
    this.clusterBits = clusterBits;
    this.#l1 = viewOf(l1);
    this.#l1Offset = l1Offset;
    this.#l2Limit = Math.max(1, Math.floor(L2_CACHE_BYTES / this.unitSize));
    this.#offsetBits = 62 - (clusterBits - 8);
  }

  /** Reads and checks the header and the L1 table of the qcow2 image in `file`. */
  static async open(file: BlockDevice, options: ImageReadOptions = {}): Promise<Qcow2Device> {
    const fail = (at: number, what: string): never => {
      throw new ImageFormatError("qcow2", at, `Cannot read qcow2 image: ${what}`);
    };
    if (file.size < 72) fail(0, `the file is ${file.size} bytes, shorter than a header`);
    const head = await file.read(0, Math.min(file.size, 512));
    const h = viewOf(head);
    if (h.getUint32(0) !== QCOW2_MAGIC) fail(0, "no QFI\\xfb magic");
    const version = h.getUint32(4);
    if (version !== 2 && version !== 3) fail(4, `version ${version} (expected 2 or 3)`);
    let compression: "zlib" | "zstd" = "zlib";
    if (getU64(h, 8) !== 0) {
      throw new UnsupportedImageError(
        "qcow2",
        8,
        "Cannot read qcow2 image: it has a backing file; convert it with its backing chain first (qemu-img convert)",
      );
    }
    const clusterBits = h.getUint32(20);
    if (clusterBits < 9 || clusterBits > 21)
      fail(20, `cluster_bits ${clusterBits} (expected 9 to 21)`);
    const cs = 2 ** clusterBits;
    const size = getU64(h, 24);
    if (!Number.isSafeInteger(size) || size > 2 ** 53 - cs)
      fail(24, `virtual size ${size} is too large`);
    const crypt = h.getUint32(32);
    if (crypt !== 0) {
      throw new UnsupportedImageError(
        "qcow2",
        32,
        `Cannot read qcow2 image: it is encrypted (method ${crypt})`,
      );
    }
    const l1Size = h.getUint32(36);
    const needed = Math.ceil(Math.ceil(size / cs) / (cs / 8));
    if (l1Size < needed) fail(36, `l1_size ${l1Size} cannot map ${size} bytes (needs ${needed})`);
    if (l1Size * 8 > MAX_L1_BYTES) fail(36, `l1_size ${l1Size} is over the 32 MiB limit`);
    const l1Offset = getU64(h, 40);
    if (
      l1Size > 0 &&
      (l1Offset % cs !== 0 || l1Offset === 0 || l1Offset + l1Size * 8 > file.size)
    ) {
      fail(40, `L1 table offset ${l1Offset} is not a cluster inside the ${file.size}-byte file`);
    }
    const rtOffset = getU64(h, 48);
    const rtClusters = h.getUint32(56);
    if (rtOffset % cs !== 0 || rtOffset === 0 || rtOffset + rtClusters * cs > file.size) {
      fail(48, `refcount table offset ${rtOffset} is not a cluster inside the file`);
    }
    if (rtClusters === 0 || rtClusters * cs > MAX_REFCOUNT_TABLE_BYTES) {
      fail(56, `refcount_table_clusters ${rtClusters} is out of range`);
    }
    if (version === 3) {
      if (head.length < 104) fail(0, "the file is shorter than a version 3 header");
      const incompatible = h.getBigUint64(72);
      if ((incompatible & ~KNOWN_INCOMPATIBLE) !== 0n) {
        fail(72, `unknown incompatible features 0x${incompatible.toString(16)}`);
      }
      if (incompatible & 2n)
        fail(72, "the corrupt bit is set; repair it with qemu-img check -r all");
      const unsupported = (what: string): never => {
        throw new UnsupportedImageError(
          "qcow2",
          72,
          `Cannot read qcow2 image: ${what} is not supported`,
        );
      };
      if (incompatible & 4n) unsupported("an external data file");
      if (incompatible & 16n) unsupported("extended L2 entries (subclusters)");
      const refcountOrder = h.getUint32(96);
      if (refcountOrder > 6) fail(96, `refcount_order ${refcountOrder} (at most 6)`);
      const headerLength = h.getUint32(100);
      if (
        headerLength < 104 ||
        headerLength % 8 !== 0 ||
        headerLength > Math.min(cs, head.length)
      ) {
        fail(100, `header_length ${headerLength} is out of range`);
      }
      // The compression type byte: present and non-zero exactly when bit 3 says so.
      const type = headerLength > 104 ? (head[104] ?? 0) : 0;
      if ((incompatible & 8n) === 0n && type !== 0) {
        fail(104, `compression type ${type} without the compression-type feature bit`);
      }
      if (incompatible & 8n) {
        if (type === 0) fail(104, "the compression-type feature bit is set but the type is zlib");
        if (type !== 1) unsupported(`compression type ${type} (known: 0 zlib, 1 zstd)`);
        compression = "zstd";
      }
    }
    const l1 = l1Size > 0 ? await file.read(l1Offset, l1Size * 8) : new Uint8Array(8);
    const codecs = withCodecs(options.codecs);
    return new Qcow2Device(file, size, version, clusterBits, l1, l1Offset, compression, codecs);
  }

  #fail(at: number, what: string): never {
    throw new ImageFormatError("qcow2", at, `Cannot read qcow2 image: ${what}`);
  }

  async #l2(l1Index: number): Promise<DataView | undefined> {
    const cached = this.#l2Cache.get(l1Index);
    if (cached) return cached;
    const entryAt = this.#l1Offset + l1Index * 8;
    const entry = this.#l1.getBigUint64(l1Index * 8);
    if ((entry & ~(OFFSET_MASK | COPIED)) !== 0n) {
      this.#fail(entryAt, `L1 entry ${l1Index} has reserved bits set (0x${entry.toString(16)})`);
    }
    const offset = Number(entry & OFFSET_MASK);
    if (offset === 0) return undefined;
    if (offset % this.unitSize !== 0 || offset + this.unitSize > this.file.size) {
      this.#fail(entryAt, `L1 entry ${l1Index} points at ${offset}, not a cluster inside the file`);
    }
    const table = viewOf(await this.file.read(offset, this.unitSize));
    if (this.#l2Cache.size >= this.#l2Limit) {
      const oldest = this.#l2Cache.keys().next().value as number;
      this.#l2Cache.delete(oldest);
    }
    this.#l2Cache.set(l1Index, table);
    return table;
  }

  /** The L2 entry of guest cluster `index` (0n when unallocated) and where it sits. */
  async #entry(index: number): Promise<bigint> {
    const perTable = this.unitSize / 8;
    const l2 = await this.#l2(Math.floor(index / perTable));
    return l2 ? l2.getBigUint64((index % perTable) * 8) : 0n;
  }

  protected override async unmappedFrom(index: number): Promise<number> {
    const perTable = this.unitSize / 8;
    if (await this.#l2(Math.floor(index / perTable))) return 0;
    return perTable - (index % perTable);
  }

  async isAllocated(index: number): Promise<boolean> {
    return this.#holdsData(await this.#entry(index));
  }

  /** Whether an L2 entry maps data (compressed, or a plain cluster without the zero flag). */
  #holdsData(entry: bigint): boolean {
    if (entry & COMPRESSED) {
      this.#compressedSeen = true;
      return true;
    }
    return (entry & OFFSET_MASK) !== 0n && !(this.version === 3 && entry & ZERO_FLAG);
  }

  /** One L2 table read for all the units it maps. */
  protected override async unitPlaces(first: number, count: number): Promise<Float64Array> {
    const perTable = this.unitSize / 8;
    const out = new Float64Array(count).fill(UNIT_ZERO);
    for (let i = first; i < first + count; ) {
      const l2 = await this.#l2(Math.floor(i / perTable));
      const stop = Math.min(first + count, (Math.floor(i / perTable) + 1) * perTable);
      for (; l2 && i < stop; i++) {
        const entry = l2.getBigUint64((i % perTable) * 8);
        if (!this.#holdsData(entry)) continue;
        const offset = entry & COMPRESSED ? 0 : this.#plainOffset(i, entry);
        // Compressed, or a last cluster cut short by the file's end: in pieces.
        out[i - first] =
          offset > 0 && offset + this.unitSize <= this.file.size ? offset : UNIT_PIECES;
      }
      i = stop;
    }
    return out;
  }

  protected async readUnit(index: number): Promise<Uint8Array | undefined> {
    const cs = this.unitSize;
    const entry = await this.#entry(index);
    const where = `L2 entry of guest cluster ${index}`;
    if (entry & COMPRESSED) {
      if (entry & COPIED) this.#fail(0, `${where} is compressed and marked copied`);
      const offsetMask = (1n << BigInt(this.#offsetBits)) - 1n;
      const offset = Number(entry & offsetMask);
      const sectors = Number((entry & ~COMPRESSED & ~COPIED) >> BigInt(this.#offsetBits)) + 1;
      if (offset >= this.file.size || offset < 512) {
        this.#fail(offset, `${where} points at ${offset}, outside the file's data`);
      }
      const end = Math.min(this.file.size, offset - (offset % 512) + sectors * 512);
      if (end - offset > 2 * cs + 512) this.#fail(offset, `${where} claims ${sectors} sectors`);
      this.#compressedSeen = true;
      const inflate =
        this.compression === "zstd" ? this.#codecs.zstdDecompress : this.#codecs.qcow2Inflate;
      if (!inflate) {
        const why = this.#codecs.zstdMissing ?? "no zstd codec was given";
        throw new UnsupportedImageError(
          "qcow2",
          offset,
          `Cannot read qcow2 image: guest cluster ${index} is zstd-compressed, and ${why}`,
        );
      }
      // One cluster at a time: the packed bytes and what they inflate to.
      const data = await inflate(await this.file.read(offset, end - offset), cs);
      if (!data || data.length !== cs) {
        this.#fail(
          offset,
          `${where}: the compressed cluster at ${offset} does not inflate to ${cs} bytes`,
        );
      }
      return data;
    }
    const offset = this.#plainOffset(index, entry);
    if (offset === 0) return undefined;
    const available = Math.min(cs, this.file.size - offset);
    const data = await this.file.read(offset, available);
    if (available === cs) return data;
    const full = new Uint8Array(cs);
    full.set(data);
    return full;
  }

  /**
   * Where the data of guest cluster `index` (an uncompressed L2 entry) starts
   * in the file, checked; 0 when it reads as zeros.
   */
  #plainOffset(index: number, entry: bigint): number {
    const where = `L2 entry of guest cluster ${index}`;
    if (this.version === 3 && entry & 0x1fen) this.#fail(0, `${where} has reserved bits set`);
    if (entry & 0x3f00000000000000n) this.#fail(0, `${where} has reserved bits set`);
    if (this.version === 3 && entry & ZERO_FLAG) return 0;
    const offset = Number(entry & OFFSET_MASK);
    if (offset === 0) return 0;
    if (offset % this.unitSize !== 0 || offset >= this.file.size) {
      this.#fail(
        offset,
        `${where} points at ${offset}, not a cluster inside the ${this.file.size}-byte file`,
      );
    }
    return offset;
  }

  /** A plain cluster is in the file (zeros past its end), a compressed one is read, the rest zeros. */
  protected override async unitRanges(index: number): Promise<HostRange[]> {
    const cs = this.unitSize;
    const entry = await this.#entry(index);
    if (entry & COMPRESSED) {
      this.#compressedSeen = true;
      return [{ offset: 0, length: cs, kind: "read", host: -1 }];
    }
    const offset = this.#plainOffset(index, entry);
    if (offset === 0) return [{ offset: 0, length: cs, kind: "zero", host: -1 }];
    const available = Math.min(cs, this.file.size - offset);
    const pieces: HostRange[] = [{ offset: 0, length: available, kind: "file", host: offset }];
    if (available < cs)
      pieces.push({ offset: available, length: cs - available, kind: "zero", host: -1 });
    return pieces;
  }

  async info(): Promise<ImageInfo> {
    const allocated = await this.countByTables(this.unitSize / 8, async (t) => {
      await this.#l2(t);
      const offset = Number(this.#l1.getBigUint64(t * 8) & OFFSET_MASK);
      return offset === 0 ? undefined : offset;
    });
    return {
      format: "qcow2",
      virtualSize: this.size,
      fileSize: this.file.size,
      clusterSize: this.unitSize,
      allocatedBytes: Math.min(this.size, allocated * this.unitSize),
      compressed: this.#compressedSeen,
      details: {
        version: this.version,
        compat: this.version === 3 ? "1.1" : "0.10",
        compressionType: this.compression,
      },
    };
  }
}
