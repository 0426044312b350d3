// The ustar header (and pax extended header before it) of one member.
import {
  BLOCK,
  encoder,
  type Field,
  paxRecord,
  paxTime,
  putBase256,
  putBytes,
  putChecksum,
  putOctal,
  TYPEFLAG,
  USTAR_MAGIC_VERSION,
} from "./_tar_format.ts";
import type { TarWriteEntry } from "./tar_header.ts";

const DEFAULT_MODE: Record<string, number> = { directory: 0o755, symlink: 0o777 };
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

/** How a GNU sparse member (format 1.0) replaces its name and size. */
export interface SparseHeader {
  /** The name in the ustar header (`dir/GNUSparseFile.0/name`). */
  name: string;
  /** Bytes stored after the header: the map and the data ranges. */
  storedSize: number;
  /** Records for the pax header (`GNU.sparse.*`). */
  records: Uint8Array[];
}

/** A member's header blocks, and the size its body must have. */
export interface EncodedHeader {
  header: Uint8Array;
  /** The body's length (for a sparse member, the whole file's). */
  size: number;
}

function isAscii(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b >= 0x80) return false;
  return true;
}

/** The first at most `n` bytes of `bytes`, cut at a UTF-8 character boundary. */
function truncateUtf8(bytes: Uint8Array, n: number): Uint8Array {
  if (bytes.length <= n) return bytes;
  let end = n;
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function checkName(what: string, value: string, path: string): void {
  if (value.includes("\0"))
    throw new TypeError(`Cannot write tar member '${path}': its ${what} contains a NUL byte`);
}

/** Splits a path into ustar prefix and name, or returns undefined. */
function splitPath(bytes: Uint8Array): [Uint8Array, Uint8Array] | undefined {
  if (bytes.length <= 100) return [new Uint8Array(0), bytes];
  for (let i = Math.max(0, bytes.length - 101); i < bytes.length && i <= 155; i++) {
    const name = bytes.length - i - 1;
    if (bytes[i] === 0x2f && name <= 100 && name > 0 && i > 0) {
      return [bytes.subarray(0, i), bytes.subarray(i + 1)];
    }
  }
  return undefined;
}

/** Encodes a member's headers, checking every field. */
export function encodeHeader(entry: TarWriteEntry, sparse?: SparseHeader): EncodedHeader {
  const { type } = entry;
  if (typeof entry.path !== "string" || entry.path === "")
    throw new TypeError("Cannot write tar member: its path is empty");
  const flag = Object.hasOwn(TYPEFLAG, type) ? TYPEFLAG[type] : undefined;
  if (flag === undefined)
    throw new TypeError(`Cannot write tar member '${entry.path}': unknown type '${String(type)}'`);
  checkName("path", entry.path, entry.path);
  let path = entry.path.replace(/\/+$/, "");
  if (path === "") path = "/";
  if (type === "directory" && !path.endsWith("/")) path += "/";

  const pax: Uint8Array[] = [];
  const block = new Uint8Array(BLOCK);
  const where = `tar member '${entry.path}'`;

  // Name.
  if (sparse) pax.push(...sparse.records);
  const pathBytes = encoder.encode(sparse ? sparse.name : path);
  const split = isAscii(pathBytes) ? splitPath(pathBytes) : undefined;
  if (split) {
    putBytes(block, "name", split[1]);
    putBytes(block, "prefix", split[0]);
  } else {
    pax.push(paxRecord("path", pathBytes));
    putBytes(block, "name", truncateUtf8(pathBytes, 100));
  }

  // Link target.
  const linkname = type === "symlink" || type === "hardlink" ? (entry.linkname ?? "") : "";
  if ((type === "symlink" || type === "hardlink") && linkname === "") {
    throw new TypeError(`Cannot write ${where}: a ${type} needs a linkname`);
  }
  checkName("linkname", linkname, entry.path);
  const linkBytes = encoder.encode(linkname);
  if (linkBytes.length > 100 || !isAscii(linkBytes)) {
    pax.push(paxRecord("linkpath", linkBytes));
    putBytes(block, "linkname", truncateUtf8(linkBytes, 100));
  } else putBytes(block, "linkname", linkBytes);

  // Size.
  // Files carry data; hard links only when given a body (pax); the other
  // types never, and their size (a directory's 4096 from stat) is ignored.
  const carriesData = type === "file" || (type === "hardlink" && entry.body !== undefined);
  const bodyLength = entry.body instanceof Uint8Array ? entry.body.length : undefined;
  let size = carriesData ? (entry.size ?? bodyLength) : 0;
  if (!carriesData && entry.body !== undefined && bodyLength !== 0) {
    throw new TypeError(`Cannot write ${where}: a ${type} cannot have a body`);
  }
  if (size === undefined) {
    if (entry.body !== undefined)
      throw new TypeError(`Cannot write ${where}: a streamed body needs a size`);
    size = 0;
  }
  if (!Number.isSafeInteger(size) || size < 0)
    throw new RangeError(`Cannot write ${where}: size ${size} is not a byte count`);
  if (carriesData && bodyLength !== undefined && bodyLength !== size) {
    throw new RangeError(
      `Cannot write ${where}: its body has ${bodyLength} bytes, but its size is ${size}`,
    );
  }
  // A hard link with data is pax only: say so with a size record.
  if (type === "hardlink" && size > 0 && size <= MAX_OCTAL_12)
    pax.push(paxRecord("size", String(size)));
  numberField(block, "size", sparse ? sparse.storedSize : size, pax, "size", where);

  // Owner.
  numberField(block, "uid", entry.uid ?? 0, pax, "uid", where);
  numberField(block, "gid", entry.gid ?? 0, pax, "gid", where);
  for (const key of ["uname", "gname"] as const) {
    const value = entry[key] ?? "";
    checkName(key, value, entry.path);
    const bytes = encoder.encode(value);
    if (bytes.length > 31 || !isAscii(bytes)) {
      pax.push(paxRecord(key, bytes));
      putBytes(block, key, truncateUtf8(bytes, 31));
    } else putBytes(block, key, bytes);
  }

  // Mode and times.
  const mode = entry.mode ?? DEFAULT_MODE[type] ?? 0o644;
  if (!Number.isSafeInteger(mode) || mode < 0)
    throw new RangeError(`Cannot write ${where}: mode ${mode} is not valid`);
  putOctal(block, "mode", mode & 0o7777);
  const mtime = entry.mtime ?? 0;
  if (!Number.isFinite(mtime))
    throw new RangeError(`Cannot write ${where}: mtime ${mtime} is not a number`);
  if (!Number.isInteger(mtime) || mtime < 0 || mtime > MAX_OCTAL_12)
    pax.push(paxRecord("mtime", paxTime(mtime)));
  const whole = Math.floor(mtime);
  if (whole >= 0 && whole <= MAX_OCTAL_12) putOctal(block, "mtime", whole);
  else putBase256(block, "mtime", whole);
  for (const key of ["atime", "ctime"] as const) {
    const t = entry[key];
    if (t === undefined) continue;
    if (!Number.isFinite(t))
      throw new RangeError(`Cannot write ${where}: ${key} ${t} is not a number`);
    pax.push(paxRecord(key, paxTime(t)));
  }

  // Devices.
  const device = type === "char" || type === "block";
  for (const key of ["devmajor", "devminor"] as const) {
    const value = device ? (entry[key] ?? 0) : 0;
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_OCTAL_8) {
      throw new RangeError(
        `Cannot write ${where}: ${key} ${value} does not fit a tar header (at most ${MAX_OCTAL_8})`,
      );
    }
    putOctal(block, key, value);
  }

  // Extended attributes.
  for (const [name, value] of Object.entries(entry.xattrs ?? {})) {
    if (name === "" || name.includes("=") || name.includes("\0")) {
      throw new TypeError(
        `Cannot write ${where}: xattr name '${name}' cannot be stored in a pax header`,
      );
    }
    pax.push(paxRecord(`SCHILY.xattr.${name}`, value));
  }

  block[156] = flag;
  block.set(USTAR_MAGIC_VERSION, 257);
  putChecksum(block);
  if (pax.length === 0) return { header: block, size };

  // The pax header member: records, padded, then the ustar header.
  const recordsLength = pax.reduce((n, r) => n + r.length, 0);
  const paxBlocks = Math.ceil(recordsLength / BLOCK);
  const out = new Uint8Array(BLOCK + paxBlocks * BLOCK + BLOCK);
  const xh = out.subarray(0, BLOCK);
  const base = path.replace(/\/$/, "").split("/").pop() ?? "";
  const xname = encoder.encode(`PaxHeaders/${base}`.replace(/[^\x20-\x7e]/g, "_"));
  putBytes(xh, "name", xname.subarray(0, 100));
  putOctal(xh, "mode", 0o644);
  putOctal(xh, "uid", 0);
  putOctal(xh, "gid", 0);
  putOctal(xh, "size", recordsLength);
  if (whole >= 0 && whole <= MAX_OCTAL_12) putOctal(xh, "mtime", whole);
  else putOctal(xh, "mtime", 0);
  xh[156] = 0x78; // 'x'
  xh.set(USTAR_MAGIC_VERSION, 257);
  putOctal(xh, "devmajor", 0);
  putOctal(xh, "devminor", 0);
  putChecksum(xh);
  let at = BLOCK;
  for (const r of pax) {
    out.set(r, at);
    at += r.length;
  }
  out.set(block, BLOCK + paxBlocks * BLOCK);
  return { header: out, size };
}

function numberField(
  block: Uint8Array,
  f: Field,
  value: number,
  pax: Uint8Array[],
  key: string,
  where: string,
): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`Cannot write ${where}: ${key} ${value} is not valid`);
  if (putOctal(block, f, value)) return;
  pax.push(paxRecord(key, String(value)));
  putBase256(block, f, value);
}
