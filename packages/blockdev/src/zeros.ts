/** Size of the shared zero buffer: 1 MiB. */
export const ZERO_CHUNK_SIZE = 1 << 20;

const ZEROS = new Uint8Array(ZERO_CHUNK_SIZE);

/**
 * A view of `length` zero bytes (at most {@linkcode ZERO_CHUNK_SIZE}) from one
 * shared buffer, so generators emit zeros without allocating. Never write to it.
 */
export function zeros(length: number = ZERO_CHUNK_SIZE): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > ZERO_CHUNK_SIZE) {
    throw new RangeError(`Cannot share ${length} zero bytes: at most ${ZERO_CHUNK_SIZE} at a time`);
  }
  return ZEROS.subarray(0, length);
}

interface NodeBufferLike {
  from(
    buffer: ArrayBufferLike,
    offset: number,
    length: number,
  ): { equals(other: Uint8Array): boolean };
}
// Node's Buffer compares with memcmp, far faster than a JavaScript loop; the
// core stays free of node:* imports and falls back to the loop elsewhere.
const NodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer;

/**
 * Whether `bytes[from, to)` is all zeros. Data blocks rarely start with
 * sixteen zero bytes, so most answers come from that look alone, without
 * allocating (this runs for every block a sparse sink writes).
 */
export function isZeroRange(bytes: Uint8Array, from: number, to: number): boolean {
  const head = Math.min(to, from + 16);
  for (let i = from; i < head; i++) if (bytes[i] !== 0) return false;
  return head === to || isZero(bytes.subarray(head, to));
}

/** Whether every byte of `bytes` is zero. */
export function isZero(bytes: Uint8Array): boolean {
  // A view of the shared zero buffer (the holes of a sparse source): no need to look.
  if (bytes.buffer === ZEROS.buffer) return true;
  if (NodeBuffer) {
    for (let at = 0; at < bytes.length; at += ZERO_CHUNK_SIZE) {
      const length = Math.min(ZERO_CHUNK_SIZE, bytes.length - at);
      const part = NodeBuffer.from(bytes.buffer, bytes.byteOffset + at, length);
      if (!part.equals(ZEROS.subarray(0, length))) return false;
    }
    return true;
  }
  let i = 0;
  const n = bytes.length;
  if ((bytes.byteOffset & 3) === 0 && n >= 64) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, n >>> 2);
    const count = words.length;
    for (let w = 0; w < count; w++) if (words[w] !== 0) return false;
    i = count << 2;
  }
  for (; i < n; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Yields `length` zero bytes in chunks of at most `chunkSize`, all views of the
 * shared zero buffer.
 */
export function* zeroChunks(
  length: number,
  chunkSize: number = ZERO_CHUNK_SIZE,
): Generator<Uint8Array> {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`Cannot make ${length} zero bytes: expected a non-negative integer`);
  }
  for (let left = length; left > 0; left -= chunkSize) yield zeros(Math.min(left, chunkSize));
}

/**
 * A stream of `length` zero bytes built from the shared buffer.
 *
 * @example Usage
 * ```ts
 * import { zeroStream } from "@bigfile/blockdev";
 * const gap = zeroStream(32256 - 512);
 * ```
 */
export function zeroStream(
  length: number,
  chunkSize: number = ZERO_CHUNK_SIZE,
): ReadableStream<Uint8Array> {
  const it = zeroChunks(length, chunkSize);
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = it.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
}
