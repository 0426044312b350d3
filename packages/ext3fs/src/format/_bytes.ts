/** A DataView over exactly the bytes of `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads a NUL-padded string of at most `length` bytes as UTF-8 (invalid bytes replaced). */
export function readCString(bytes: Uint8Array, offset: number, length: number): string {
  const slice = bytes.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return new TextDecoder().decode(end < 0 ? slice : slice.subarray(0, end));
}

/** Writes `text` as UTF-8, truncated to `length` bytes, NUL-padded. */
export function writeCString(
  bytes: Uint8Array,
  offset: number,
  length: number,
  text: string,
): void {
  const encoded = new TextEncoder().encode(text);
  bytes.fill(0, offset, offset + length);
  bytes.set(encoded.subarray(0, length), offset);
}

/** Formats 16 bytes as a lowercase UUID string. */
export function formatUuid(bytes: Uint8Array): string {
  const hex = Array.from(bytes.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Parses a UUID string (with or without dashes) into 16 bytes. */
export function parseUuid(text: string): Uint8Array {
  const hex = text.replaceAll("-", "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex))
    throw new TypeError(`Cannot parse UUID: ${JSON.stringify(text)}`);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
