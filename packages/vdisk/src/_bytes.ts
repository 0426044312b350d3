// Small helpers for binary fields and for re-blocking a raw byte stream.
import { ZERO_CHUNK_SIZE, zeros } from "@bigfile/blockdev";

const SHARED_ZEROS = zeros(0).buffer;

/** A 64-bit field as a number (exact up to 2^53; larger values are only ever range-checked). */
export function getU64(view: DataView, at: number, littleEndian = false): number {
  return Number(view.getBigUint64(at, littleEndian));
}

/** Writes a non-negative safe integer as a 64-bit field. */
export function setU64(view: DataView, at: number, value: number, littleEndian = false): void {
  view.setBigUint64(at, BigInt(value), littleEndian);
}

/** A DataView over the whole of `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** ASCII text of `bytes` (no decoding surprises for binary junk). */
export function ascii(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return text;
}

/** Rounds `value` up to a multiple of `unit`. */
export function alignUp(value: number, unit: number): number {
  return Math.ceil(value / unit) * unit;
}

/**
 * Re-blocks a raw image stream into `blockSize` blocks covering `total` bytes,
 * the last one padded with zeros. Blocks are views that stay valid only until
 * the next one is pulled. Throws if the source is shorter or longer than `total`.
 * A block made only of views of blockdev's shared zero buffer (the holes of a
 * sparse source) is never copied: it comes as a shared zero view itself (or,
 * over 1 MiB, one zero block kept for the purpose), so writers skip it at once.
 */
export function rawBlocks(
  data: AsyncIterable<Uint8Array>,
  blockSize: number,
  total: number,
): AsyncGenerator<Uint8Array> {
  return blocksOf(data, blockSize, total, false) as AsyncGenerator<Uint8Array>;
}

/**
 * {@linkcode rawBlocks}, except that blocks of shared zeros (a sparse
 * source's holes) come as counts: a number n stands for n blocks of zeros in
 * a row, so a writer skips a 4 GB hole in a few steps instead of one per block.
 */
export function rawBlockRuns(
  data: AsyncIterable<Uint8Array>,
  blockSize: number,
  total: number,
): AsyncGenerator<Uint8Array | number> {
  return blocksOf(data, blockSize, total, true);
}

async function* blocksOf(
  data: AsyncIterable<Uint8Array>,
  blockSize: number,
  total: number,
  counted: boolean,
): AsyncGenerator<Uint8Array | number> {
  // Zero blocks not yet yielded (counted mode only).
  let zeroRun = 0;
  const pending = new Uint8Array(blockSize);
  let zeroBlock: Uint8Array | undefined;
  const zeroed = (): Uint8Array => {
    if (blockSize <= ZERO_CHUNK_SIZE) return zeros(blockSize);
    zeroBlock ??= new Uint8Array(blockSize);
    return zeroBlock;
  };
  let filled = 0;
  // Whether pending[0, filled) is all shared zeros (then its bytes were not copied).
  let pendingZero = true;
  let seen = 0;
  for await (const chunk of data) {
    if (seen + chunk.length > total) {
      throw new RangeError(
        `Cannot convert the image: the source holds more than the ${total} bytes announced`,
      );
    }
    seen += chunk.length;
    const zeroChunk = chunk.buffer === SHARED_ZEROS;
    let at = 0;
    if (filled > 0) {
      const take = Math.min(blockSize - filled, chunk.length);
      if (!zeroChunk) {
        if (pendingZero) pending.fill(0, 0, filled);
        pending.set(chunk.subarray(0, take), filled);
        pendingZero = false;
      } else if (!pendingZero) pending.fill(0, filled, filled + take);
      filled += take;
      at = take;
      if (filled < blockSize) continue;
      if (pendingZero && counted) zeroRun++;
      else {
        if (zeroRun > 0) yield zeroRun;
        zeroRun = 0;
        yield pendingZero ? zeroed() : pending;
      }
      filled = 0;
      pendingZero = true;
    }
    if (zeroChunk && counted) {
      const whole = Math.floor((chunk.length - at) / blockSize);
      zeroRun += whole;
      at += whole * blockSize;
    } else if (chunk.length - at >= blockSize && zeroRun > 0) {
      yield zeroRun;
      zeroRun = 0;
    }
    while (chunk.length - at >= blockSize) {
      yield chunk.subarray(at, at + blockSize); // a view of shared zeros stays one
      at += blockSize;
    }
    if (at < chunk.length) {
      if (!zeroChunk) {
        pending.set(chunk.subarray(at), 0);
        pendingZero = false;
      }
      filled = chunk.length - at;
    }
  }
  if (seen < total) {
    throw new RangeError(
      `Cannot convert the image: the source ended at ${seen} bytes, expected ${total}`,
    );
  }
  if (filled > 0 && pendingZero && counted) {
    zeroRun++;
    filled = 0;
  }
  if (zeroRun > 0) yield zeroRun;
  if (filled > 0) {
    if (pendingZero) {
      yield zeroed();
      return;
    }
    pending.fill(0, filled);
    yield pending;
  }
}
