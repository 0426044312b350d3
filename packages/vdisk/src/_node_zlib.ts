// Compression for the writers and readers from Node's zlib, synchronous and
// fast: the codecs `@bigfile/vdisk/node` and the CLI inject into the core. qcow2 uses raw deflate with a 4 KiB window
// (QEMU inflates with windowBits -12); VMDK grains are zlib streams (RFC 1950).
import { createRequire } from "node:module";
import { loadNativeAddon } from "@bigfile/blockdev/node";
import { zstdFrameLength } from "./_zstd_frame.ts";
import type { Codecs } from "./codecs.ts";

/** Node's zstd one-shot functions (node:zlib from Node 22.15 and 23.8; not in Node 20's types). */
interface NodeZstd {
  zstdCompressSync(data: Uint8Array): Uint8Array;
  zstdDecompressSync(data: Uint8Array, options: { maxOutputLength: number }): Uint8Array;
}
type Zlib = typeof import("node:zlib");

// Loaded on first use: node:zlib costs a command line ~5 ms at every start,
// and most conversions compress nothing.
let loaded: Zlib | undefined;
function zlib(): Zlib {
  loaded ??= createRequire(import.meta.url)("node:zlib") as Zlib;
  return loaded;
}

/** Node's zstd functions, if this Node has them. */
function nodeZstd(): NodeZstd | undefined {
  const maybe = zlib() as unknown as Partial<NodeZstd>;
  return typeof maybe.zstdCompressSync === "function" &&
    typeof maybe.zstdDecompressSync === "function"
    ? (maybe as NodeZstd)
    : undefined;
}

/**
 * Whether this Node can compress and decompress zstd: node:zlib has it from
 * 22.15 and 23.8 (told by the version, so that asking loads no zlib).
 */
export function hasZstd(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 8) || (major === 22 && minor >= 15);
}

/** Why zstd is not available here, for messages. */
export function zstdMissing(): string {
  return `zstd needs Node >= 22.15 (node:zlib has no zstd in Node ${process.version})`;
}

/** A zstd frame for a qcow2 cluster (compression_type 1), as QEMU writes them. */
export function qcow2ZstdCompress(data: Uint8Array): Uint8Array {
  const zstd = nodeZstd();
  if (!zstd) throw new TypeError(`Cannot compress with zstd: ${zstdMissing()}`);
  return zstd.zstdCompressSync(data);
}

/**
 * Decompresses the zstd frame at the start of a qcow2 compressed cluster
 * (the sectors after it are padding) to at most `limit` bytes; undefined if
 * the data is corrupt.
 */
export function qcow2ZstdInflate(data: Uint8Array, limit: number): Uint8Array | undefined {
  const zstd = nodeZstd();
  if (!zstd) throw new TypeError(`Cannot decompress zstd: ${zstdMissing()}`);
  const length = zstdFrameLength(data);
  if (length === undefined) return undefined;
  try {
    return zstd.zstdDecompressSync(data.subarray(0, length), { maxOutputLength: limit });
  } catch {
    return undefined;
  }
}

/** The package's addon (native/deflate.c): the system's zlib, on libuv's threads. */
interface NativeDeflate {
  /** Raw deflate in at most `limit` bytes; null when it does not fit. */
  deflateRaw(
    data: Uint8Array,
    limit: number,
    level: number,
    windowBits: number,
    memLevel: number,
  ): Promise<Uint8Array | null>;
  zlibVersion: string;
}

/** undefined: not tried yet; null: not here (not built, or no libz.so.1). */
let native: NativeDeflate | null | undefined;

/** The package's addon, loaded on first use; it exports nothing without the system's zlib. */
function nativeDeflate(): NativeDeflate | null {
  if (native === undefined) {
    const addon = loadNativeAddon(
      import.meta.url,
      "@bigfile/vdisk",
      "deflate",
    ) as Partial<NativeDeflate> | null;
    native = typeof addon?.deflateRaw === "function" ? (addon as NativeDeflate) : null;
  }
  return native;
}

/**
 * The zlib that compresses qcow2 clusters: the system's (as qemu-img's) when
 * the addon could open it, else Node's bundled one.
 */
export function qcow2DeflateLibrary(): string {
  const addon = nativeDeflate();
  return addon ? `system zlib ${addon.zlibVersion}` : `Node's zlib ${process.versions.zlib}`;
}

/**
 * Raw deflate for a qcow2 cluster (window 2^12, as readers of qcow2 expect).
 * With the addon: the system's zlib with QEMU's settings (default level,
 * memLevel 9) on a pool thread, so several clusters compress at once and the
 * streams are qemu-img's; `data` itself when the stream would not be shorter
 * (stored plain). Without it, Node's zlib (Chromium's fork: ~2% longer streams).
 * The caller must not change `data` until the promise settles.
 */
export function qcow2Deflate(data: Uint8Array): Uint8Array | Promise<Uint8Array> {
  const addon = nativeDeflate();
  if (addon) {
    return addon.deflateRaw(data, data.length - 1, -1, -12, 9).then((packed) => packed ?? data);
  }
  return zlib().deflateRawSync(data, { windowBits: 12, level: 6 });
}

/** Inflates a qcow2 compressed cluster to at most `limit` bytes; undefined if the data is corrupt. */
export function qcow2Inflate(data: Uint8Array, limit: number): Uint8Array | undefined {
  try {
    return zlib().inflateRawSync(data, {
      maxOutputLength: limit,
      finishFlush: 2 /* Z_SYNC_FLUSH */,
    });
  } catch {
    return undefined;
  }
}

/** A zlib stream (RFC 1950) for a VMDK grain. */
export function zlibDeflate(data: Uint8Array): Uint8Array {
  return zlib().deflateSync(data, { level: 6 });
}

/** Inflates a zlib stream to at most `limit` bytes; undefined if the data is corrupt. */
export function zlibInflate(data: Uint8Array, limit: number): Uint8Array | undefined {
  try {
    return zlib().inflateSync(data, { maxOutputLength: limit, finishFlush: 2 });
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
  ...(hasZstd()
    ? { zstdCompress: qcow2ZstdCompress, zstdDecompress: qcow2ZstdInflate }
    : { zstdMissing: zstdMissing() }),
};
