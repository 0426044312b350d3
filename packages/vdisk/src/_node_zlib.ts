// Compression for the writers and readers from Node's zlib, synchronous and
// fast: the codecs `@bigfile/vdisk/node` and the CLI inject into the core. qcow2 uses raw deflate with a 4 KiB window
// (QEMU inflates with windowBits -12); VMDK grains are zlib streams (RFC 1950).
import * as zlib from "node:zlib";
import { deflateRawSync, deflateSync, inflateRawSync, inflateSync } from "node:zlib";
import { zstdFrameLength } from "./_zstd_frame.ts";
import type { Codecs } from "./codecs.ts";

/** Node's zstd one-shot functions (node:zlib from Node 22.15 and 23.8; not in Node 20's types). */
interface NodeZstd {
  zstdCompressSync(data: Uint8Array): Uint8Array;
  zstdDecompressSync(data: Uint8Array, options: { maxOutputLength: number }): Uint8Array;
}
const maybeZstd = zlib as unknown as Partial<NodeZstd>;
const zstd: NodeZstd | undefined =
  typeof maybeZstd.zstdCompressSync === "function" &&
  typeof maybeZstd.zstdDecompressSync === "function"
    ? (maybeZstd as NodeZstd)
    : undefined;

/** Whether this Node can compress and decompress zstd (node:zlib has it from 22.15). */
export function hasZstd(): boolean {
  return zstd !== undefined;
}

/** Why zstd is not available here, for messages. */
export function zstdMissing(): string {
  return `zstd needs Node >= 22.15 (node:zlib has no zstd in Node ${process.version})`;
}

/** A zstd frame for a qcow2 cluster (compression_type 1), as QEMU writes them. */
export function qcow2ZstdCompress(data: Uint8Array): Uint8Array {
  if (!zstd) throw new TypeError(`Cannot compress with zstd: ${zstdMissing()}`);
  return zstd.zstdCompressSync(data);
}

/**
 * Decompresses the zstd frame at the start of a qcow2 compressed cluster
 * (the sectors after it are padding) to at most `limit` bytes; undefined if
 * the data is corrupt.
 */
export function qcow2ZstdInflate(data: Uint8Array, limit: number): Uint8Array | undefined {
  if (!zstd) throw new TypeError(`Cannot decompress zstd: ${zstdMissing()}`);
  const length = zstdFrameLength(data);
  if (length === undefined) return undefined;
  try {
    return zstd.zstdDecompressSync(data.subarray(0, length), { maxOutputLength: limit });
  } catch {
    return undefined;
  }
}

/** Raw deflate for a qcow2 cluster (window 2^12, as readers of qcow2 expect). */
export function qcow2Deflate(data: Uint8Array): Uint8Array {
  return deflateRawSync(data, { windowBits: 12, level: 6 });
}

/** Inflates a qcow2 compressed cluster to at most `limit` bytes; undefined if the data is corrupt. */
export function qcow2Inflate(data: Uint8Array, limit: number): Uint8Array | undefined {
  try {
    return inflateRawSync(data, { maxOutputLength: limit, finishFlush: 2 /* Z_SYNC_FLUSH */ });
  } catch {
    return undefined;
  }
}

/** A zlib stream (RFC 1950) for a VMDK grain. */
export function zlibDeflate(data: Uint8Array): Uint8Array {
  return deflateSync(data, { level: 6 });
}

/** Inflates a zlib stream to at most `limit` bytes; undefined if the data is corrupt. */
export function zlibInflate(data: Uint8Array, limit: number): Uint8Array | undefined {
  try {
    return inflateSync(data, { maxOutputLength: limit, finishFlush: 2 });
  } catch {
    return undefined;
  }
}

/**
 * The codecs of Node's zlib for the readers' and writers' `codecs` option:
 * qcow2 clusters deflated with a 4 KiB window (as `qemu-img convert -c`),
 * VMDK grains as zlib streams, and zstd where this Node has it (>= 22.15).
 *
 * @example Compressed qcow2 through Node's zlib
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemorySink, openImage, writeQcow2 } from "@bigfile/vdisk";
 * import { nodeCodecs } from "@bigfile/vdisk/node";
 * import { MemoryDevice } from "@bigfile/blockdev";
 * const raw = new Uint8Array(1 << 20).fill(7, 4096, 8192);
 * const sink = new MemorySink();
 * await writeQcow2({ size: raw.length, data: [raw] as unknown as AsyncIterable<Uint8Array> }, sink, { compress: true, codecs: nodeCodecs });
 * const disk = await openImage(new MemoryDevice(sink.bytes()), { codecs: nodeCodecs });
 * assert.deepEqual(await disk.read(0, raw.length), raw);
 * ```
 */
export const nodeCodecs: Codecs = {
  qcow2Deflate,
  qcow2Inflate,
  zlibDeflate,
  zlibInflate,
  ...(zstd
    ? { zstdCompress: qcow2ZstdCompress, zstdDecompress: qcow2ZstdInflate }
    : { zstdMissing: zstdMissing() }),
};
