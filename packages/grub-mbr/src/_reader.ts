/** Random read access to the head of an image: a BlockDevice, or a buffered stream. */
export interface ByteReader {
  /** Reads exactly `length` bytes at `offset` (throws past the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Size in bytes, when known. */
  readonly size?: number;
}

/** The little-endian u64 at `offset` as a number (exact below 2^53). */
export function u64(bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 2 ** 32;
}

/** The little-endian u32 at `offset`. */
export function u32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}

/** The little-endian u16 at `offset`. */
export function u16(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(offset, true);
}

/** Writes `value` as a little-endian u64 at `offset`. */
export function setU64(bytes: Uint8Array, offset: number, value: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(offset, value % 2 ** 32, true);
  view.setUint32(offset + 4, Math.floor(value / 2 ** 32), true);
}

/** Writes `value` as a little-endian u32/u16 at `offset`. */
export function setU32(bytes: Uint8Array, offset: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(offset, value, true);
}

/** Writes `value` as a little-endian u16 at `offset`. */
export function setU16(bytes: Uint8Array, offset: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint16(offset, value, true);
}

/** `0x` and `digits` hex digits. */
export function hex(value: number, digits = 2): string {
  return `0x${value.toString(16).toUpperCase().padStart(digits, "0")}`;
}
