// Small helpers for binary fields and for re-blocking a raw byte stream.

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
 */
export async function* rawBlocks(
  data: AsyncIterable<Uint8Array>,
  blockSize: number,
  total: number,
): AsyncGenerator<Uint8Array> {
  const pending = new Uint8Array(blockSize);
  let filled = 0;
  let seen = 0;
  for await (const chunk of data) {
    if (seen + chunk.length > total) {
      throw new RangeError(
        `Cannot convert the image: the source holds more than the ${total} bytes announced`,
      );
    }
    seen += chunk.length;
    let at = 0;
    if (filled > 0) {
      const take = Math.min(blockSize - filled, chunk.length);
      pending.set(chunk.subarray(0, take), filled);
      filled += take;
      at = take;
      if (filled < blockSize) continue;
      yield pending;
      filled = 0;
    }
    while (chunk.length - at >= blockSize) {
      yield chunk.subarray(at, at + blockSize);
      at += blockSize;
    }
    if (at < chunk.length) {
      pending.set(chunk.subarray(at), 0);
      filled = chunk.length - at;
    }
  }
  if (seen < total) {
    throw new RangeError(
      `Cannot convert the image: the source ended at ${seen} bytes, expected ${total}`,
    );
  }
  if (filled > 0) {
    pending.fill(0, filled);
    yield pending;
  }
}
