import { assertInRange, type BlockDevice, zeros } from "@bigfile/blockdev";
import { UNIT_PIECES, UNIT_ZERO } from "./_unit_places.ts";

/** The container formats this package reads and writes. */
export type ImageFormat = "raw" | "qcow2" | "vhd" | "vhd-fixed" | "vmdk" | "vmdk-stream";

/** What `vdisk info` reports about an image, as `qemu-img info` does. */
export interface ImageInfo {
  /** The container format (`vhd` is dynamic VHD, `vmdk` monolithicSparse, `vmdk-stream` streamOptimized). */
  format: ImageFormat;
  /** Size of the virtual disk in bytes. */
  virtualSize: number;
  /** Length of the image file in bytes. */
  fileSize: number;
  /** Allocation unit of the format in bytes (cluster, grain or block); the virtual size for raw. */
  clusterSize: number;
  /** Guest bytes the image stores data for (allocated units times their size). */
  allocatedBytes: number;
  /** Whether stored units are compressed. */
  compressed: boolean;
  /** Format-specific fields (version, subformat, creator, ...). */
  details: Record<string, string | number | boolean>;
}

/** Units whose places are asked for at a time. */
const UNIT_BATCH = 8192;

/**
 * How a piece of the disk is stored in the image file (see
 * {@linkcode ImageDevice.hostRanges}): `file`, as is at `host`; `zero`, not at
 * all (it reads as zeros); `read`, some other way (compressed): only the
 * device's `read` gives its bytes.
 */
export type HostRangeKind = "file" | "zero" | "read";

/** A piece of the disk and where its bytes are in the image file. */
export interface HostRange {
  /** Offset in the disk. */
  offset: number;
  /** Length in bytes. */
  length: number;
  /** How the piece is stored. */
  kind: HostRangeKind;
  /** Where its bytes start in the image file (`file`), -1 otherwise. */
  host: number;
}

/**
 * The guest view of a disk image container: a read-only {@linkcode BlockDevice}
 * whose bytes are the virtual disk, built from fixed-size units (qcow2
 * clusters, VMDK grains, VHD blocks) that each format locates in its file.
 * Unallocated units read as zeros.
 */
export abstract class ImageDevice implements BlockDevice {
  /** Virtual disk size in bytes. */
  readonly size: number;
  readonly sectorSize = 512;
  readonly readOnly = true;
  /** The format of the container. */
  abstract readonly format: ImageFormat;
  /** Bytes per unit (cluster, grain, block). */
  readonly unitSize: number;
  /** The image file. */
  protected readonly file: BlockDevice;
  #cachedIndex = -1;
  #cached: Uint8Array | undefined;

  protected constructor(file: BlockDevice, size: number, unitSize: number) {
    this.file = file;
    this.size = size;
    this.unitSize = unitSize;
  }

  /** The bytes of unit `index` (`unitSize` of them), or undefined when it reads as zeros. */
  protected abstract readUnit(index: number): Promise<Uint8Array | undefined>;

  /** Whether unit `index` holds data in the file (false: it reads as zeros). */
  abstract isAllocated(index: number): Promise<boolean>;

  /**
   * How many units from `index` on are known to read as zeros without
   * looking at each (a missing second-level table): 0 when unknown.
   */
  protected unmappedFrom(_index: number): Promise<number> {
    return Promise.resolve(0);
  }

  /**
   * Where the disk's data is: `[offset, length, ...]` byte runs of allocated
   * units, in order (a `RawImage`'s `dataRuns`). Reads the tables, not the data.
   */
  async dataRuns(): Promise<number[]> {
    const runs: number[] = [];
    const units = Math.ceil(this.size / this.unitSize);
    for (let first = 0; first < units; ) {
      const skip = await this.unmappedFrom(first);
      if (skip > 0) {
        first += skip;
        continue;
      }
      const count = Math.min(UNIT_BATCH, units - first);
      const places = await this.unitPlaces(first, count);
      for (let k = 0; k < count; k++) {
        if (places[k] === UNIT_ZERO) continue;
        const start = (first + k) * this.unitSize;
        const end = Math.min(this.size, start + this.unitSize);
        const last = runs.length - 2;
        if (last >= 0 && (runs[last] as number) + (runs[last + 1] as number) === start) {
          runs[last + 1] = (runs[last + 1] as number) + end - start;
        } else runs.push(start, end - start);
      }
      first += count;
    }
    return runs;
  }

  /**
   * Where each of the units `[first, first + count)` is: its offset in the
   * file when all of it is stored there as is, `UNIT_ZERO` (-1) when it
   * reads as zeros, `UNIT_PIECES` (-2) when it holds data otherwise stored
   * ({@linkcode unitRanges} says how). By default from
   * {@linkcode isAllocated}; formats with tables answer from each table at
   * once, checking entries as `read` does.
   */
  protected async unitPlaces(first: number, count: number): Promise<Float64Array> {
    const out = new Float64Array(count).fill(UNIT_ZERO);
    for (let k = 0; k < count; k++) if (await this.isAllocated(first + k)) out[k] = UNIT_PIECES;
    return out;
  }

  /**
   * Where the bytes of `[offset, offset + length)` of the disk are in the
   * image file: pieces in order covering the range, neighbours of one kind
   * joined (`file` ones where they are contiguous in the file too), so the
   * whole disk's is a list of its stored pieces. Entries are checked against
   * the file as `read` checks them; this reads tables (and VHD sector
   * bitmaps), never data. What `containerFileImage` (at
   * `@bigfile/vdisk/node`) copies file to file.
   */
  async hostRanges(offset: number, length: number): Promise<HostRange[]> {
    assertInRange("read", offset, length, this.size);
    const out: HostRange[] = [];
    const end = offset + length;
    const add = (from: number, to: number, kind: HostRangeKind, host: number) => {
      const last = out.at(-1);
      if (
        last &&
        last.kind === kind &&
        last.offset + last.length === from &&
        (host < 0 || last.host + last.length === host)
      ) {
        last.length += to - from;
      } else out.push({ offset: from, length: to - from, kind, host });
    };
    const units = Math.ceil(end / this.unitSize);
    for (let first = Math.floor(offset / this.unitSize); first < units; ) {
      // Units without a table, or unallocated, read as zeros: no pieces of their own.
      const skip = Math.min(await this.unmappedFrom(first), units - first);
      if (skip > 0) {
        const base = first * this.unitSize;
        add(Math.max(offset, base), Math.min(end, base + skip * this.unitSize), "zero", -1);
        first += skip;
        continue;
      }
      const count = Math.min(UNIT_BATCH, units - first);
      const places = await this.unitPlaces(first, count);
      for (let k = 0; k < count; k++) {
        const base = (first + k) * this.unitSize;
        const place = places[k] as number;
        if (place === UNIT_ZERO || place >= 0) {
          const from = Math.max(offset, base);
          const host = place >= 0 ? place + from - base : -1;
          add(from, Math.min(end, base + this.unitSize), place >= 0 ? "file" : "zero", host);
          continue;
        }
        for (const piece of await this.unitRanges(first + k)) {
          const from = Math.max(offset, base + piece.offset);
          const to = Math.min(end, base + piece.offset + piece.length);
          if (to <= from) continue;
          const host = piece.kind === "file" ? piece.host + (from - base - piece.offset) : -1;
          add(from, to, piece.kind, host);
        }
      }
      first += count;
    }
    return out;
  }

  /**
   * How unit `index` is stored: pieces covering its `unitSize` bytes, offsets
   * within the unit. By default all of it is `read` through the device.
   */
  protected unitRanges(_index: number): Promise<HostRange[]> {
    return Promise.resolve([{ offset: 0, length: this.unitSize, kind: "read", host: -1 }]);
  }

  /** Describes the image, counting allocated units (reads every table once). */
  abstract info(): Promise<ImageInfo>;

  /**
   * Counts the units that hold data, table by table: `tableKey(t)` names the
   * table that maps units `[t * perTable, (t + 1) * perTable)` (undefined: none),
   * so a table that several entries point at is scanned once. The work is
   * bounded by the tables in the file, not by the virtual size.
   */
  protected async countByTables(
    perTable: number,
    tableKey: (table: number) => Promise<number | undefined>,
  ): Promise<number> {
    const units = Math.ceil(this.size / this.unitSize);
    const tables = Math.ceil(units / perTable);
    const memo = new Map<number, number>();
    let total = 0;
    for (let t = 0; t < tables; t++) {
      const key = await tableKey(t);
      if (key === undefined) continue;
      const first = t * perTable;
      const n = Math.min(perTable, units - first);
      let count = n === perTable ? memo.get(key) : undefined;
      if (count === undefined) {
        count = 0;
        for (let i = 0; i < n; i++) if (await this.isAllocated(first + i)) count++;
        if (n === perTable) memo.set(key, count);
      }
      total += count;
    }
    return total;
  }

  /** Counts the units that hold data, one by one. */
  protected async countAllocated(): Promise<number> {
    let count = 0;
    const units = Math.ceil(this.size / this.unitSize);
    for (let i = 0; i < units; i++) if (await this.isAllocated(i)) count++;
    return count;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    assertInRange("read", offset, length, this.size);
    const out = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      const position = offset + at;
      const index = Math.floor(position / this.unitSize);
      const within = position - index * this.unitSize;
      const take = Math.min(this.unitSize - within, length - at);
      const unit = await this.#unit(index);
      if (unit) out.set(unit.subarray(within, within + take), at);
      at += take;
    }
    return out;
  }

  /**
   * The virtual disk as a byte stream: unallocated units come as views of one
   * shared zero buffer (sinks leave them as holes), and are never read.
   */
  async *chunks(): AsyncGenerator<Uint8Array> {
    const units = Math.ceil(this.size / this.unitSize);
    for (let i = 0; i < units; i++) {
      const skip = Math.min(await this.unmappedFrom(i), units - i);
      if (skip > 1) {
        const length = Math.min(skip * this.unitSize, this.size - i * this.unitSize);
        for (let at = 0; at < length; at += 1 << 20) yield zeros(Math.min(1 << 20, length - at));
        i += skip - 1;
        continue;
      }
      const length = Math.min(this.unitSize, this.size - i * this.unitSize);
      const unit = (await this.isAllocated(i)) ? await this.#unit(i) : undefined;
      if (unit) yield unit.subarray(0, length);
      else for (let at = 0; at < length; at += 1 << 20) yield zeros(Math.min(1 << 20, length - at));
    }
  }

  async #unit(index: number): Promise<Uint8Array | undefined> {
    if (index !== this.#cachedIndex) {
      this.#cached = await this.readUnit(index);
      this.#cachedIndex = index;
    }
    return this.#cached;
  }

  write(): Promise<void> {
    return Promise.reject(new TypeError(`Cannot write to a ${this.format} image: read-only`));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Closes the image file. */
  close(): Promise<void> {
    return this.file.close();
  }
}
