// The metadata of a qcow2 file whose data clusters are appended as they come
// (in any guest order): the L2 tables, L1 table and refcounts follow the data,
// and the header, written last, points at them. Used by the seekable writer
// and by Qcow2Placement.
import { alignUp, setU64, viewOf } from "./_bytes.ts";
import { COPIED, QCOW2_HEADER_LENGTH, QCOW2_MAGIC } from "./_qcow2_format.ts";
import type { ImageSink } from "./image_sink.ts";
import type { Qcow2Compression } from "./qcow2_writer.ts";

/** A qcow2 disk's shape: size rounded to sectors, cluster size, L1 entries. */
export interface Qcow2Shape {
  size: number;
  clusterSize: number;
  l1Size: number;
}

/** Checks a cluster size and a disk size; throws a RangeError saying what is wrong. */
export function qcow2Shape(imageSize: number, cs: number): Qcow2Shape {
  if (!Number.isInteger(cs) || cs < 512 || cs > 2 << 20 || (cs & (cs - 1)) !== 0) {
    throw new RangeError(
      `Cannot write qcow2 with clusters of ${cs} bytes: expected a power of two from 512 to 2097152`,
    );
  }
  if (!Number.isSafeInteger(imageSize) || imageSize < 0) {
    throw new RangeError(
      `Cannot write qcow2 of ${imageSize} bytes: expected a non-negative integer`,
    );
  }
  // QEMU counts a disk in whole sectors (it would drop a partial last one): round up.
  const size = alignUp(imageSize, 512);
  const l2Entries = cs / 8;
  const l1Size = Math.ceil(Math.ceil(size / cs) / l2Entries);
  if (l1Size * 8 > 32 << 20) {
    throw new RangeError(
      `Cannot write qcow2 of ${size} bytes with ${cs}-byte clusters: the L1 table would pass 32 MiB; use bigger clusters`,
    );
  }
  return { size, clusterSize: cs, l1Size };
}

/** L2 entries and refcounts kept in memory until the tables are written after the data. */
export class Qcow2Tables {
  readonly shape: Qcow2Shape;
  /** The next free byte of the file (data goes from the second cluster on). */
  cursor: number;
  readonly #l2 = new Map<number, BigUint64Array>();
  readonly #l2Entries: number;
  #refcounts = new Uint16Array(1024);

  constructor(shape: Qcow2Shape) {
    this.shape = shape;
    this.#l2Entries = shape.clusterSize / 8;
    this.cursor = shape.clusterSize;
    this.addRef(0); // the header cluster
  }

  /** Counts one more reference to host cluster `cluster`. */
  addRef(cluster: number): void {
    if (cluster >= this.#refcounts.length) {
      const next = new Uint16Array(Math.max(cluster + 1, this.#refcounts.length * 2));
      next.set(this.#refcounts);
      this.#refcounts = next;
    }
    this.#refcounts[cluster] = (this.#refcounts[cluster] ?? 0) + 1;
  }

  /** The L2 entry of guest cluster `index` (0n: unallocated). */
  entry(index: number): bigint {
    return this.#l2.get(Math.floor(index / this.#l2Entries))?.[index % this.#l2Entries] ?? 0n;
  }

  setEntry(index: number, entry: bigint): void {
    const l1Index = Math.floor(index / this.#l2Entries);
    let table = this.#l2.get(l1Index);
    if (!table) {
      table = new BigUint64Array(this.#l2Entries);
      this.#l2.set(l1Index, table);
    }
    table[index % this.#l2Entries] = entry;
  }

  /** A whole host cluster at the end of the file for guest cluster `index`; returns its offset. */
  appendCluster(index: number): number {
    const cs = this.shape.clusterSize;
    this.cursor = alignUp(this.cursor, cs);
    const at = this.cursor;
    this.addRef(at / cs);
    this.setEntry(index, COPIED | BigInt(at));
    this.cursor += cs;
    return at;
  }

  /**
   * Writes the L2 tables, the L1 table, the refcount blocks and table after
   * the data, then the header, and ends the sink; returns the file's size.
   */
  async write(sink: ImageSink, compression?: Qcow2Compression): Promise<number> {
    const { clusterSize: cs, size, l1Size } = this.shape;
    let cursor = alignUp(this.cursor, cs);
    const l1 = new Uint8Array(Math.ceil((l1Size * 8) / cs) * cs);
    const l1View = viewOf(l1);
    for (const l1Index of [...this.#l2.keys()].sort((a, b) => a - b)) {
      const table = this.#l2.get(l1Index) as BigUint64Array;
      const bytes = new Uint8Array(cs);
      const view = viewOf(bytes);
      for (let i = 0; i < this.#l2Entries; i++) view.setBigUint64(i * 8, table[i] as bigint);
      await sink.write(cursor, bytes);
      this.addRef(cursor / cs);
      l1View.setBigUint64(l1Index * 8, COPIED | BigInt(cursor));
      cursor += cs;
    }
    const l1Offset = l1Size > 0 ? cursor : 0;
    if (l1Size > 0) await sink.write(l1Offset, l1);
    for (let c = 0; c < l1.length / cs; c++) this.addRef(l1Offset / cs + c);
    cursor += l1.length;

    // The refcount structures count themselves: grow until the numbers agree.
    const perBlock = cs / 2; // 16-bit refcounts
    const first = cursor / cs;
    const { blocks, table: tableClusters } = refcountClusters(first, cs);
    for (let c = 0; c < blocks + tableClusters; c++) this.addRef(first + c);
    const tableOffset = cursor + blocks * cs;
    const table = new Uint8Array(tableClusters * cs);
    const tableView = viewOf(table);
    for (let b = 0; b < blocks; b++) {
      const bytes = new Uint8Array(cs);
      const view = viewOf(bytes);
      for (let i = 0; i < perBlock; i++) {
        const count = this.#refcounts[b * perBlock + i];
        if (count) view.setUint16(i * 2, count);
      }
      const at = cursor + b * cs;
      await sink.write(at, bytes);
      setU64(tableView, b * 8, at);
    }
    await sink.write(tableOffset, table);
    const fileSize = tableOffset + table.length;
    const header = qcow2Header(cs, size, l1Size, l1Offset, tableOffset, tableClusters);
    if (compression === "zstd") {
      const h = viewOf(header);
      h.setUint32(76, h.getUint32(76) | 8); // incompatible feature bit 3: compression type
      header[104] = 1; // compression_type: zstd
    }
    await sink.write(0, header);
    await sink.end(fileSize);
    return fileSize;
  }
}

/** The refcount blocks and refcount table clusters that `fixed` other clusters need (they count themselves). */
export function refcountClusters(fixed: number, cs: number): { blocks: number; table: number } {
  const perBlock = cs / 2;
  let blocks = 0;
  let table = 0;
  for (;;) {
    const nextBlocks = Math.ceil((fixed + blocks + table) / perBlock);
    const nextTable = Math.ceil((nextBlocks * 8) / cs);
    if (nextBlocks === blocks && nextTable === table) return { blocks, table };
    blocks = nextBlocks;
    table = nextTable;
  }
}

export function qcow2Header(
  cs: number,
  size: number,
  l1Size: number,
  l1Offset: number,
  tableOffset: number,
  tableClusters: number,
): Uint8Array {
  const header = new Uint8Array(QCOW2_HEADER_LENGTH + 8); // + the end-of-extensions marker
  const h = viewOf(header);
  h.setUint32(0, QCOW2_MAGIC);
  h.setUint32(4, 3);
  h.setUint32(20, Math.log2(cs));
  setU64(h, 24, size);
  h.setUint32(36, l1Size);
  setU64(h, 40, l1Offset);
  setU64(h, 48, tableOffset);
  h.setUint32(56, tableClusters);
  h.setUint32(96, 4); // refcount_order: 16-bit refcounts
  h.setUint32(100, QCOW2_HEADER_LENGTH);
  return header;
}
