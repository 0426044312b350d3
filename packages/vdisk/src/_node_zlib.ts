// Compression for the writers and readers, from Node's zlib (the one Node-specific
// dependency of the format code). qcow2 uses raw deflate with a 4 KiB window
// (QEMU inflates with windowBits -12); VMDK grains are zlib streams (RFC 1950).
import { deflateRawSync, deflateSync, inflateRawSync, inflateSync } from "node:zlib";

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
