import { isZero } from "@bigfile/blockdev";
import { alignUp, rawBlockRuns, rawBlocks, setU64, viewOf } from "./_bytes.ts";
import { COMPRESSED, COPIED } from "./_qcow2_format.ts";
import { Qcow2Tables, qcow2Header, qcow2Shape, refcountClusters } from "./_qcow2_tables.ts";
import { type Codecs, type Compress, withCodecs } from "./codecs.ts";
import {
  directCopier,
  type ImageSink,
  placedRanges,
  type RawImage,
  unitsWithData,
  type WriteResult,
} from "./image_sink.ts";

/** Options for {@linkcode writeQcow2}. */
export interface Qcow2WriteOptions {
  /** Cluster size in bytes: a power of two from 512 to 2 MiB. @default 65536 */
  clusterSize?: number;
  /**
   * Compress data clusters, as `qemu-img convert -c`: `true` or `"zlib"` with
   * raw deflate (every reader of qcow2 knows it), `"zstd"` with Zstandard
   * (compression_type 1, QEMU 5.1 and later). Both need `codecs` that have
   * them: `nodeCodecs` from `@bigfile/vdisk/node` (zstd on Node >= 22.15).
   * @default false
   */
  compress?: boolean | Qcow2Compression;
  /** The compressors, over the Web defaults (which have none for qcow2). @default webCodecs */
  codecs?: Partial<Codecs>;
}

/** How qcow2 clusters are compressed: the header's compression_type. */
export type Qcow2Compression = "zlib" | "zstd";

/**
 * Writes a raw disk image as qcow2 version 3 (compat 1.1). Clusters of zeros
 * are left unallocated. To a seekable sink, data clusters are appended as they
 * arrive (optionally compressed), then the L2 tables, the L1 table and the
 * refcount blocks and table follow, and the header is written last. To a
 * stream, the image's `dataRuns` must say where the data is: the tables are
 * planned and written first, then the data clusters in order (uncompressed);
 * so too when the image can copy its data straight into the sink
 * ({@linkcode RawImage.copierFor}).
 * Memory holds only the metadata (8 bytes per data cluster and 2 per host cluster).
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
  const shape = qcow2Shape(image.size, options.clusterSize ?? 65536);
  const { clusterSize: cs, l1Size } = shape;
  const clusterBits = Math.log2(cs);
  const compression: Qcow2Compression | undefined =
    options.compress === true ? "zlib" : options.compress || undefined;
  if (compression !== undefined && compression !== "zlib" && compression !== "zstd") {
    throw new TypeError(
      `Cannot write qcow2 compressed with '${compression}': expected zlib or zstd`,
    );
  }
  const codecs = withCodecs(options.codecs);
  let deflate: Compress | undefined;
  if (compression === "zstd") {
    deflate = codecs.zstdCompress;
    if (!deflate) {
      const why = codecs.zstdMissing ?? "no zstd codec was given";
      throw new TypeError(`Cannot write zstd-compressed qcow2: ${why}; use zlib`);
    }
  } else if (compression === "zlib") {
    deflate = codecs.qcow2Deflate;
    if (!deflate) {
      throw new TypeError(
        "Cannot write compressed qcow2: no deflate with a 4 KiB window was given (QEMU reads no other; the Web has none): pass codecs.qcow2Deflate, or nodeCodecs from @bigfile/vdisk/node",
      );
    }
  }
  const compress = compression !== undefined;
  if (!sink.seekable) {
    if (compress || !image.dataRuns) {
      throw new TypeError(
        `Cannot write qcow2 to a stream: ${compress ? "compressed clusters have sizes known only after the data" : "where the data is must be known up front"}; write to a file (-o FILE)`,
      );
    }
    return writePlanned(image, image.dataRuns, sink, cs, l1Size);
  }
  // Data that can be copied file to file: tables planned from the runs, as for a stream.
  const copy = compress ? undefined : directCopier(image, sink);
  if (copy) return writePlanned(image, image.dataRuns ?? [], sink, cs, l1Size, copy);
  // Bits of a compressed descriptor that hold the host offset.
  const offsetBits = 62 - (clusterBits - 8);

  const tables = new Qcow2Tables(shape);
  // Where the next compressed bytes go (0: in a fresh cluster). As QEMU packs
  // them: on in the partly used cluster, also after a plain cluster was put
  // after it; into the next cluster only if that is the file's next free one.
  let bytes = 0;
  const store = async (index: number, block: Uint8Array, packed: Uint8Array | undefined) => {
    if (!packed || packed.length >= cs) {
      await sink.write(tables.appendCluster(index), block);
      return;
    }
    let start = bytes;
    if (start === 0 || cs - (start % cs) < packed.length) {
      const fresh = alignUp(tables.cursor, cs);
      if (start === 0 || alignUp(start, cs) !== fresh) start = fresh;
      tables.cursor = fresh + cs;
    }
    const end = start + packed.length;
    await sink.write(start, packed);
    // Each host cluster the stream touches is referenced once more.
    for (let c = Math.floor(start / cs); c <= Math.floor((end - 1) / cs); c++) tables.addRef(c);
    const extraSectors = Math.floor((end - 1) / 512) - Math.floor(start / 512);
    tables.setEntry(
      index,
      COMPRESSED | (BigInt(extraSectors) << BigInt(offsetBits)) | BigInt(start),
    );
    bytes = end % cs === 0 ? 0 : end;
  };
  // A codec that compresses on other threads (a promise) gets a few clusters
  // at once; they are stored in guest order all the same.
  const inFlight: { index: number; block: Uint8Array; packed: Promise<Uint8Array> | Uint8Array }[] =
    [];
  const IN_FLIGHT = 8;
  let dataBytes = 0;
  let guest = 0;
  for await (const block of rawBlockRuns(image.data, cs, image.size)) {
    if (typeof block === "number") {
      guest += block; // clusters of a hole: unallocated
      continue;
    }
    const index = guest++;
    if (isZero(block)) continue;
    dataBytes += cs;
    if (!deflate) {
      await store(index, block, undefined);
      continue;
    }
    // The source may reuse its buffer, and another thread reads this one.
    const own = block.slice();
    const packed = deflate(own);
    // Awaited in turn below; a failure must not count as unhandled meanwhile.
    if (packed instanceof Promise) packed.catch(() => {});
    inFlight.push({ index, block: own, packed });
    if (inFlight.length >= IN_FLIGHT) {
      const next = inFlight.shift() as (typeof inFlight)[number];
      await store(next.index, next.block, await next.packed);
    }
  }
  for (const next of inFlight) await store(next.index, next.block, await next.packed);
  const fileSize = await tables.write(sink, compression);
  return { fileSize, virtualSize: shape.size, dataBytes };
}

/** The streaming layout: header, L1, refcount table and blocks, L2 tables, then the data in guest order. */
async function writePlanned(
  image: RawImage,
  runs: readonly number[],
  sink: ImageSink,
  cs: number,
  l1Size: number,
  copy?: (ranges: readonly number[]) => Promise<void>,
): Promise<WriteResult> {
  const size = alignUp(image.size, 512);
  const l2Entries = cs / 8;
  const guestClusters = Math.ceil(size / cs);
  const data = unitsWithData(runs, cs).filter((u) => u < guestClusters);
  const tables: number[] = [];
  for (const u of data) {
    const t = Math.floor(u / l2Entries);
    if (tables.at(-1) !== t) tables.push(t);
  }
  const l1Clusters = Math.ceil((l1Size * 8) / cs);
  const fixed = 1 + l1Clusters + tables.length + data.length;
  const refcount = refcountClusters(fixed, cs);
  const total = fixed + refcount.blocks + refcount.table;
  const l1Offset = l1Clusters > 0 ? cs : 0;
  const tableOffset = cs + l1Clusters * cs;
  const blocksOffset = tableOffset + refcount.table * cs;
  const l2Offset = blocksOffset + refcount.blocks * cs;
  const dataOffset = l2Offset + tables.length * cs;
  const fileSize = dataOffset + data.length * cs;

  await sink.write(0, qcow2Header(cs, size, l1Size, l1Offset, tableOffset, refcount.table));
  const l1 = new Uint8Array(l1Clusters * cs);
  const l1View = viewOf(l1);
  tables.forEach((t, i) => {
    l1View.setBigUint64(t * 8, COPIED | BigInt(l2Offset + i * cs));
  });
  if (l1Clusters > 0) await sink.write(l1Offset, l1);
  const table = new Uint8Array(refcount.table * cs);
  for (let b = 0; b < refcount.blocks; b++) setU64(viewOf(table), b * 8, blocksOffset + b * cs);
  await sink.write(tableOffset, table);
  for (let b = 0; b < refcount.blocks; b++) {
    const block = new Uint8Array(cs);
    const view = viewOf(block);
    const first = b * (cs / 2);
    for (let c = first; c < Math.min(total, first + cs / 2); c++)
      view.setUint16((c - first) * 2, 1);
    await sink.write(blocksOffset + b * cs, block);
  }
  let k = 0;
  for (let i = 0; i < tables.length; i++) {
    const t = tables[i] as number;
    const l2 = new Uint8Array(cs);
    const view = viewOf(l2);
    while (k < data.length && Math.floor((data[k] as number) / l2Entries) === t) {
      const u = data[k] as number;
      view.setBigUint64((u % l2Entries) * 8, COPIED | BigInt(dataOffset + k * cs));
      k++;
    }
    await sink.write(l2Offset + i * cs, l2);
  }
  if (copy) {
    await copy(placedRanges(runs, data, cs, (k) => dataOffset + k * cs));
    await sink.end(fileSize);
    return { fileSize, virtualSize: size, dataBytes: data.length * cs };
  }
  k = 0;
  let guest = 0;
  for await (const block of rawBlocks(image.data, cs, image.size)) {
    const index = guest++;
    if (data[k] === index) {
      await sink.write(dataOffset + k * cs, block);
      k++;
    } else if (!isZero(block)) {
      throw new RangeError(
        `Cannot write qcow2: cluster ${index} holds data outside the image's announced data runs`,
      );
    }
  }
  await sink.end(fileSize);
  return { fileSize, virtualSize: size, dataBytes: data.length * cs };
}
