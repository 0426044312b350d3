// Field layout and encodings of the ustar header block (POSIX.1-2017 pax,
// "ustar Interchange Format") plus the GNU extensions (base-256 numbers,
// atime/ctime and the old sparse map in the prefix area).

export const BLOCK = 512;

/** [offset, length] of each header field. */
export const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
  // GNU (magic "ustar  \0") reuses the prefix area:
  gnuAtime: [345, 12],
  gnuCtime: [357, 12],
  gnuSparse: [386, 96],
  gnuIsExtended: [482, 1],
  gnuRealSize: [483, 12],
} as const satisfies Record<string, readonly [number, number]>;

export type Field = keyof typeof F;

const utf8 = new TextDecoder("utf-8", { fatal: false });
const utf8Fatal = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");
export const encoder = new TextEncoder();

export function field(block: Uint8Array, f: Field): Uint8Array {
  const [at, len] = F[f];
  return block.subarray(at, at + len);
}

/** Bytes up to the first NUL. */
export function cstring(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

/**
 * Decodes a name as UTF-8 when it is valid UTF-8, else byte by byte as
 * Latin-1 (old archives made in other locales), so no byte is lost to U+FFFD.
 */
export function decodeName(bytes: Uint8Array): string {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** The string in a NUL-terminated (or full) text field. */
export function textField(block: Uint8Array, f: Field): string {
  return decodeName(cstring(field(block, f)));
}

/**
 * A numeric field: octal digits (leading spaces or NULs allowed, ended by a
 * space or NUL), or GNU base-256 (first byte 0x80 positive, 0xff negative).
 * Returns `undefined` when the field is not a number.
 */
export function parseNumber(bytes: Uint8Array): number | undefined {
  const first = bytes[0] ?? 0;
  if (first === 0x80 || first === 0xff) {
    let value = first === 0xff ? -1n : 0n;
    for (let i = 1; i < bytes.length; i++) value = (value << 8n) | BigInt(bytes[i] as number);
    // 0xff: two's complement over the remaining bytes.
    if (first === 0xff) value = BigInt.asIntN((bytes.length - 1) * 8 + 1, value);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
      return undefined;
    return Number(value);
  }
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0)) i++;
  if (i === bytes.length) return 0; // all blank: GNU tar reads it as 0 too for optional fields
  let value = 0;
  let digits = 0;
  for (; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c >= 0x30 && c <= 0x37) {
      value = value * 8 + (c - 0x30);
      digits++;
    } else if (c === 0x20 || c === 0) break;
    else return undefined;
  }
  for (; i < bytes.length; i++) if (bytes[i] !== 0x20 && bytes[i] !== 0) return undefined;
  if (digits === 0 || !Number.isSafeInteger(value)) return undefined;
  return value;
}

/** Sums of the header with the checksum field read as spaces: [unsigned, signed]. */
export function checksums(block: Uint8Array): [number, number] {
  let sum = 0;
  let high = 0; // bytes >= 0x80, which count 256 less when signed
  for (let i = 0; i < BLOCK; i++) {
    const b = block[i] as number;
    sum += b;
    high += b >> 7;
  }
  for (let i = 148; i < 156; i++) {
    const b = block[i] as number;
    sum += 0x20 - b;
    high -= b >> 7;
  }
  return [sum, sum - 256 * high];
}

/** Writes `value` as zero-padded octal filling `length - 1` digits and a NUL; false if it does not fit. */
export function putOctal(block: Uint8Array, f: Field, value: number): boolean {
  const [at, len] = F[f];
  if (value < 0 || value >= 8 ** (len - 1)) return false;
  let v = Math.trunc(value);
  for (let i = at + len - 2; i >= at; i--) {
    block[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
  block[at + len - 1] = 0;
  return true;
}

/** Writes `value` as GNU base-256 (big endian, first byte 0x80 or 0xff). */
export function putBase256(block: Uint8Array, f: Field, value: number): void {
  const [at, len] = F[f];
  let v = BigInt(Math.trunc(value));
  for (let i = len - 1; i >= 1; i--) {
    block[at + i] = Number(BigInt.asUintN(8, v));
    v >>= 8n;
  }
  block[at] = value < 0 ? 0xff : 0x80;
}

/** Writes text bytes into a field (the caller checked they fit). */
export function putBytes(block: Uint8Array, f: Field, bytes: Uint8Array): void {
  const [at, len] = F[f];
  block.set(bytes.subarray(0, len), at);
}

/** Fills in the checksum field of a finished header: six octal digits, NUL, space. */
export function putChecksum(block: Uint8Array): void {
  let [sum] = checksums(block);
  const [at] = F.chksum;
  for (let i = at + 5; i >= at; i--) {
    block[i] = 0x30 + (sum % 8);
    sum = Math.floor(sum / 8);
  }
  block[at + 6] = 0;
  block[at + 7] = 0x20;
}

/** Magic and version of a POSIX ustar header: `"ustar\0"` `"00"`. */
export const USTAR_MAGIC_VERSION: Uint8Array = new TextEncoder().encode("ustar\x0000");

/** Typeflag byte of each entry type, as written. */
export const TYPEFLAG: Record<string, number> = {
  file: 0x30,
  hardlink: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  directory: 0x35,
  fifo: 0x36,
};

/** One pax extended header record: `"%d %s=%s\n"`, the length counting itself. */
export function paxRecord(key: string, value: Uint8Array | string): Uint8Array {
  const k = encoder.encode(key);
  const v = typeof value === "string" ? encoder.encode(value) : value;
  const rest = 1 + k.length + 1 + v.length + 1; // " " key "=" value "\n"
  let len = rest + String(rest).length;
  if (String(len).length + rest !== len) len = rest + String(len).length;
  const out = new Uint8Array(len);
  out.set(encoder.encode(`${len} `), 0);
  let at = String(len).length + 1;
  out.set(k, at);
  at += k.length;
  out[at++] = 0x3d;
  out.set(v, at);
  at += v.length;
  out[at] = 0x0a;
  return out;
}

/** Formats seconds as a pax time: decimal, with up to 9 fraction digits, no exponent. */
export function paxTime(seconds: number): string {
  if (Number.isInteger(seconds)) return String(seconds);
  const negative = seconds < 0;
  const abs = Math.abs(seconds);
  let whole = Math.floor(abs);
  let nanos = Math.round((abs - whole) * 1e9);
  if (nanos >= 1e9) {
    whole += 1;
    nanos -= 1e9;
  }
  const frac = String(nanos).padStart(9, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${frac ? `.${frac}` : ""}`;
}

/** Parses a pax time (`[-]digits[.digits]`), or `undefined`. */
export function parsePaxTime(text: string): number | undefined {
  if (!/^-?\d+(\.\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
