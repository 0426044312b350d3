import { isZero } from "@bigfile/blockdev";
import { alignUp, rawBlocks, setU64, viewOf } from "./_bytes.ts";
import { qcow2Deflate } from "./_node_zlib.ts";
import { COMPRESSED, COPIED, QCOW2_HEADER_LENGTH, QCOW2_MAGIC } from "./_qcow2_format.ts";
import type { ImageSink, RawImage, WriteResult } from "./image_sink.ts";

/** Options for {@linkcode writeQcow2}. */
export interface Qcow2WriteOptions {
  /** Cluster size in bytes: a power of two from 512 to 2 MiB. @default 65536 */
  clusterSize?: number;
  /** Compress data clusters with zlib (raw deflate), as `qemu-img convert -c`. @default false */
  compress?: boolean;
}

/**
 * Writes a raw disk image as qcow2 version 3 (compat 1.1) to a seekable sink.
 * Clusters of zeros are left unallocated; data clusters are appended as they
 * arrive (optionally compressed), then the L2 tables, the L1 table and the
 * refcount blocks and table follow, and the header is written last. Memory
 * holds only the metadata (8 bytes per data cluster and 2 per host cluster).
 *
 * @example Usage
 * ```ts
 * import { MemorySink, writeQcow2 } from "@bigfile/vdisk";
 * const sink = new MemorySink();
 * const raw = new Uint8Array(1 << 20).fill(7, 4096, 8192);
 * await writeQcow2({ size: raw.length, data: [raw] as unknown as AsyncIterable<Uint8Array> }, sink);
 * ```
 */
export async function writeQcow2(
  image: RawImage,
  sink: ImageSink,
  options: Qcow2WriteOptions = {},
): Promise<WriteResult> {
  const cs = options.clusterSize ?? 65536;
  if (!Number.isInteger(cs) || cs < 512 || cs > 2 << 20 || (cs & (cs - 1)) !== 0) {
    throw new RangeError(
      `Cannot write qcow2 with clusters of ${cs} bytes: expected a power of two from 512 to 2097152`,
    );
  }
  if (!sink.seekable) {
    throw new TypeError(
      "Cannot write qcow2 to a stream: its tables are written after the data; write to a file (-o FILE)",
    );
  }
  const size = image.size;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`Cannot write qcow2 of ${size} bytes: expected a non-negative integer`);
  }
  const clusterBits = Math.log2(cs);
  const l2Entries = cs / 8;
  const guestClusters = Math.ceil(size / cs);
  const l1Size = Math.ceil(guestClusters / l2Entries);
  if (l1Size * 8 > 32 << 20) {
    throw new RangeError(
      `Cannot write qcow2 of ${size} bytes with ${cs}-byte clusters: the L1 table would pass 32 MiB; use bigger clusters`,
    );
  }
  const compress = options.compress ?? false;
  // Bits of a compressed descriptor that hold the host offset.
  const offsetBits = 62 - (clusterBits - 8);

  const l2Tables = new Map<number, BigUint64Array>();
  // Refcounts per host cluster, grown as the file grows.
  let refcounts = new Uint16Array(1024);
  const addRef = (cluster: number) => {
    if (cluster >= refcounts.length) {
      const next = new Uint16Array(Math.max(cluster + 1, refcounts.length * 2));
      next.set(refcounts);
      refcounts = next;
    }
    refcounts[cluster] = (refcounts[cluster] ?? 0) + 1;
  };
  addRef(0); // the header cluster
  let cursor = cs; // next free byte of the file
  let dataBytes = 0;
  let guest = 0;
  for await (const block of rawBlocks(image.data, cs, size)) {
    const index = guest++;
    if (isZero(block)) continue;
    dataBytes += cs;
    let entry: bigint;
    const packed = compress ? qcow2Deflate(block) : undefined;
    if (packed && packed.length < cs) {
      // Compressed clusters are packed byte by byte; each host cluster they touch is referenced.
      const start = cursor;
      const end = start + packed.length;
      await sink.write(start, packed);
      for (let c = Math.floor(start / cs); c <= Math.floor((end - 1) / cs); c++) addRef(c);
      const extraSectors = Math.floor((end - 1) / 512) - Math.floor(start / 512);
      entry = COMPRESSED | (BigInt(extraSectors) << BigInt(offsetBits)) | BigInt(start);
      cursor = end;
    } else {
      cursor = alignUp(cursor, cs);
      await sink.write(cursor, block);
      addRef(cursor / cs);
      entry = COPIED | BigInt(cursor);
      cursor += cs;
    }
    const l1Index = Math.floor(index / l2Entries);
    let table = l2Tables.get(l1Index);
    if (!table) {
      table = new BigUint64Array(l2Entries);
      l2Tables.set(l1Index, table);
    }
    table[index % l2Entries] = entry;
  }

  // Metadata after the data: L2 tables, the L1 table, refcount blocks, refcount table.
  cursor = alignUp(cursor, cs);
  const l1 = new Uint8Array(Math.max(1, Math.ceil((l1Size * 8) / cs)) * cs);
  const l1View = viewOf(l1);
  for (const l1Index of [...l2Tables.keys()].sort((a, b) => a - b)) {
    const table = l2Tables.get(l1Index) as BigUint64Array;
    const bytes = new Uint8Array(cs);
    const view = viewOf(bytes);
    for (let i = 0; i < l2Entries; i++) view.setBigUint64(i * 8, table[i] as bigint);
    await sink.write(cursor, bytes);
    addRef(cursor / cs);
    l1View.setBigUint64(l1Index * 8, COPIED | BigInt(cursor));
    cursor += cs;
  }
  const l1Offset = cursor;
  await sink.write(l1Offset, l1);
  for (let c = 0; c < l1.length / cs; c++) addRef(l1Offset / cs + c);
  cursor += l1.length;

  // The refcount structures count themselves: grow until the numbers agree.
  const perBlock = cs / 2; // 16-bit refcounts
  const firstRefcountCluster = cursor / cs;
  let blocks = 0;
  let tableClusters = 0;
  for (;;) {
    const total = firstRefcountCluster + blocks + tableClusters;
    const needBlocks = Math.ceil(total / perBlock);
    const needTable = Math.ceil((needBlocks * 8) / cs);
    if (needBlocks === blocks && needTable === tableClusters) break;
    blocks = needBlocks;
    tableClusters = needTable;
  }
  for (let c = 0; c < blocks + tableClusters; c++) addRef(firstRefcountCluster + c);
  const tableOffset = cursor + blocks * cs;
  const table = new Uint8Array(tableClusters * cs);
  const tableView = viewOf(table);
  for (let b = 0; b < blocks; b++) {
    const bytes = new Uint8Array(cs);
    const view = viewOf(bytes);
    for (let i = 0; i < perBlock; i++) {
      const count = refcounts[b * perBlock + i];
      if (count) view.setUint16(i * 2, count);
    }
    const at = cursor + b * cs;
    await sink.write(at, bytes);
    setU64(tableView, b * 8, at);
  }
  await sink.write(tableOffset, table);
  const fileSize = tableOffset + table.length;

  const header = new Uint8Array(QCOW2_HEADER_LENGTH + 8); // + the end-of-extensions marker
  const h = viewOf(header);
  h.setUint32(0, QCOW2_MAGIC);
  h.setUint32(4, 3);
  h.setUint32(20, clusterBits);
  setU64(h, 24, size);
  h.setUint32(36, l1Size);
  setU64(h, 40, l1Offset);
  setU64(h, 48, tableOffset);
  h.setUint32(56, tableClusters);
  h.setUint32(96, 4); // refcount_order: 16-bit refcounts
  h.setUint32(100, QCOW2_HEADER_LENGTH);
  await sink.write(0, header);
  await sink.end(fileSize);
  return { fileSize, virtualSize: size, dataBytes };
}
