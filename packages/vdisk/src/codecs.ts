import { collectBytes } from "@bigfile/blockdev";
import { deflateStreamLength } from "./_deflate_end.ts";

/** Compresses one cluster or grain. */
export type Compress = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;
/** Decompresses one cluster or grain to at most `limit` bytes; undefined when the data is corrupt. */
export type Decompress = (
  data: Uint8Array,
  limit: number,
) => Uint8Array | undefined | Promise<Uint8Array | undefined>;

/**
 * The compression the compressed formats use, injected so that the core
 * needs no Node built-in: qcow2 clusters are raw deflate (RFC 1951) or zstd,
 * VMDK streamOptimized grains are zlib streams (RFC 1950). Readers and
 * writers take a `Partial<Codecs>` in their options over {@linkcode webCodecs};
 * `@bigfile/vdisk/node` offers `nodeCodecs` (node:zlib, synchronous, with
 * zstd where Node has it).
 */
export interface Codecs {
  /**
   * Raw deflate with a window of at most 4 KiB, for qcow2 clusters (QEMU
   * inflates them with a 12-bit window). No Web API offers the window size,
   * so the Web default has none.
   */
  qcow2Deflate?: Compress;
  /** Inflates a qcow2 cluster (raw deflate; padding after the stream ignored). */
  qcow2Inflate: Decompress;
  /** A zlib stream for a VMDK grain. */
  zlibDeflate: Compress;
  /** Inflates a VMDK grain (a zlib stream). */
  zlibInflate: Decompress;
  /** A zstd frame for a qcow2 cluster (compression_type 1). */
  zstdCompress?: Compress;
  /** Decompresses a qcow2 cluster's zstd frame (padding after it ignored). */
  zstdDecompress?: Decompress;
  /** Why there is no zstd, for messages. */
  zstdMissing?: string;
}

function oneChunk(data: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(data);
      controller.close();
    },
  });
}

/** The chunks of a stream; a RangeError once they pass `limit` bytes (a deflate bomb stops there). */
async function* upTo(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    length += value.length;
    if (length > limit) {
      await reader.cancel().catch(() => undefined);
      throw new RangeError(`Cannot decompress: the data passes ${limit} bytes`);
    }
    yield value;
  }
}

/** Everything a stream gives, or undefined once it errors or passes `limit` bytes. */
function collect(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array | undefined> {
  return collectBytes(upTo(stream, limit)).catch(() => undefined);
}

function webInflate(
  format: "deflate" | "deflate-raw",
  data: Uint8Array,
  limit: number,
): Promise<Uint8Array | undefined> {
  // DecompressionStream refuses bytes after the stream: hand it the stream's exact bytes.
  const header = format === "deflate" ? 2 : 0;
  const length = deflateStreamLength(data, header);
  if (length === undefined) return Promise.resolve(undefined);
  const exact = data.subarray(0, header + length + (format === "deflate" ? 4 : 0));
  if (exact.length < header + length) return Promise.resolve(undefined);
  let inflater: DecompressionStream;
  try {
    inflater = new DecompressionStream(format);
  } catch {
    // Node added "deflate-raw" in 20.12 (and 21.2): older ones refuse the format.
    throw new TypeError(
      `Cannot inflate: this runtime's DecompressionStream has no "${format}" (Node >= 20.12 has); pass codecs, such as nodeCodecs from @bigfile/vdisk/node`,
    );
  }
  return collect(oneChunk(exact).pipeThrough(inflater), limit);
}

/**
 * The codecs of the Web platform (`CompressionStream`, `DecompressionStream`:
 * browsers, Node >= 20.12, Deno): every reader works; writers compress VMDK
 * grains, but compressed qcow2 and zstd need codecs given in the options.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { webCodecs } from "@bigfile/vdisk";
 * const grain = await webCodecs.zlibDeflate(new Uint8Array(65536).fill(7));
 * assert.deepEqual(await webCodecs.zlibInflate(grain, 65536), new Uint8Array(65536).fill(7));
 * ```
 */
export const webCodecs: Codecs = {
  qcow2Inflate: (data, limit) => webInflate("deflate-raw", data, limit),
  zlibDeflate: async (data) => {
    const stream = oneChunk(data).pipeThrough(new CompressionStream("deflate"));
    const packed = await collect(stream, Number.POSITIVE_INFINITY);
    if (!packed) throw new TypeError("Cannot compress a VMDK grain: CompressionStream failed");
    return packed;
  },
  zlibInflate: (data, limit) => webInflate("deflate", data, limit),
  zstdMissing:
    "no zstd codec was given (options.codecs; @bigfile/vdisk/node's nodeCodecs has one on Node >= 22.15)",
};

/** `codecs` over the Web defaults. */
export function withCodecs(codecs: Partial<Codecs> | undefined): Codecs {
  return codecs ? { ...webCodecs, ...codecs } : webCodecs;
}
