// Turns a ustar/GNU/v7 header block plus the pax records and GNU long names
// before it into a TarHeader.
import { isZero } from "../zeros.ts";
import { type PaxRecord, paxText } from "./_pax.ts";
import { cstring, decodeName, field, parseNumber, parsePaxTime, textField } from "./_tar_format.ts";
import type { TarEntryType, TarHeader } from "./tar_header.ts";
import { normalizeTarPath, tarPathProblem } from "./tar_path.ts";
import { TarSyntaxError, TarUnsafePathError } from "./tar_syntax_error.ts";

/** Extended information gathered for the next real header. */
export interface Extensions {
  /** Records of `x` headers, in order. */
  records: PaxRecord[];
  /** Bytes of `x` headers and long names so far (capped). */
  bytes: number;
  longName?: Uint8Array;
  longLink?: Uint8Array;
}

/** A decoded header and what the reader needs to find its body. */
export interface Decoded {
  header: TarHeader;
  /** The typeflag character. */
  flag: string;
  /** Whether bytes follow the header (data, or a GNU dumpdir's listing). */
  hasData: boolean;
  /** Bytes stored in the archive after the header (before padding). */
  storedSize: number;
  /** Effective pax values (global, then local; xattrs excluded). */
  pax: Map<string, Uint8Array>;
  /** Reads a pax number, or `fallback` when absent. */
  paxNumber(key: string, fallback: number): number;
}

const GNU_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72, 0x20, 0x20, 0x00]; // "ustar  \0"
const USTAR_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72]; // "ustar"
const XATTR = "SCHILY.xattr.";

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file", // contiguous
  S: "file", // GNU sparse
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "directory",
  "6": "fifo",
  D: "directory", // GNU dumpdir: a directory whose body lists its contents
};

type NumberField =
  | "mode"
  | "uid"
  | "gid"
  | "size"
  | "mtime"
  | "devmajor"
  | "devminor"
  | "gnuRealSize";

/** A numeric header field, or a {@linkcode TarSyntaxError} naming it. */
export function headerNumber(block: Uint8Array, f: NumberField, offset: number): number {
  const value = parseNumber(field(block, f));
  if (value === undefined) {
    const raw = Array.from(field(block, f), (b) =>
      b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`,
    ).join("");
    throw new TarSyntaxError(
      `Cannot read tar header at offset ${offset}: ${f} field '${raw}' is not a number`,
      offset,
    );
  }
  if (value < 0 && f !== "mtime") {
    throw new TarSyntaxError(
      `Cannot read tar header at offset ${offset}: ${f} is negative (${value})`,
      offset,
    );
  }
  return value;
}

/**
 * Decodes a member's header. `offset` is the header block's, `entryOffset`
 * that of the first extension header before it (errors name the member there).
 */
export function decodeHeader(
  block: Uint8Array,
  offset: number,
  entryOffset: number,
  ext: Extensions,
  global: Map<string, Uint8Array>,
  allowUnsafePaths: boolean,
): Decoded {
  const flag = String.fromCharCode(block[156] as number);
  // Global records apply to every member, except those naming one member.
  const pax = new Map(global);
  for (const key of ["path", "linkpath", "size", "GNU.sparse.name"]) pax.delete(key);
  const xattrs: Record<string, Uint8Array> = {};
  let hasXattrs = false;
  for (const [key, value] of pax) {
    if (key.startsWith(XATTR)) {
      xattrs[key.slice(XATTR.length)] = value;
      hasXattrs = true;
      pax.delete(key);
    }
  }
  for (const r of ext.records) {
    if (r.key.startsWith(XATTR)) {
      xattrs[r.key.slice(XATTR.length)] = r.value;
      hasXattrs = true;
    } else if (r.value.length === 0) pax.delete(r.key);
    else pax.set(r.key, r.value);
  }

  const paxNumber = (key: string, fallback: number): number => {
    const v = pax.get(key);
    if (!v) return fallback;
    const text = paxText(v);
    if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw new TarSyntaxError(
        `Cannot read pax extended header at offset ${entryOffset}: ${key} is '${text.slice(0, 40)}'`,
        entryOffset,
      );
    }
    return Number(text);
  };
  const paxTime = (key: string): number | undefined => {
    const v = pax.get(key);
    if (!v) return undefined;
    const t = parsePaxTime(paxText(v));
    if (t === undefined) {
      throw new TarSyntaxError(
        `Cannot read pax extended header at offset ${entryOffset}: ${key} is '${paxText(v).slice(0, 40)}'`,
        entryOffset,
      );
    }
    return t;
  };
  const paxString = (key: string, fallback: () => string): string => {
    const v = pax.get(key);
    return v ? paxText(v) : fallback();
  };

  const gnu = GNU_MAGIC.every((b, i) => block[257 + i] === b);
  const ustar = !gnu && USTAR_MAGIC.every((b, i) => block[257 + i] === b);

  // Path: pax, then GNU long name, then prefix + name (POSIX ustar only:
  // GNU headers keep atime/ctime where POSIX has the prefix).
  const rawPath = paxString("GNU.sparse.name", () =>
    paxString("path", () => {
      if (ext.longName) return decodeName(ext.longName);
      const name = textField(block, "name");
      // star's xstar headers keep atime/ctime after a 131-byte prefix ("tar\0" at 508).
      const star =
        block[508] === 0x74 && block[509] === 0x61 && block[510] === 0x72 && block[511] === 0;
      const prefix = ustar
        ? decodeName(cstring(field(block, "prefix").subarray(0, star ? 131 : 155)))
        : "";
      return prefix ? `${prefix}/${name}` : name;
    }),
  );
  if (rawPath === "") {
    throw new TarSyntaxError(
      `Cannot read tar header at offset ${offset}: the member has no name`,
      offset,
    );
  }
  if (rawPath.includes("\0")) {
    throw new TarSyntaxError(
      `Cannot read tar header at offset ${offset}: the member name has a NUL byte`,
      offset,
    );
  }

  let type: TarEntryType = TYPES[flag] ?? "file"; // POSIX: unknown types read as regular files
  // Old tars mark directories by a trailing slash only.
  if (rawPath.endsWith("/") && (flag === "0" || flag === "\0")) type = "directory";

  let linkname = paxString("linkpath", () =>
    ext.longLink ? decodeName(ext.longLink) : textField(block, "linkname"),
  );
  if (type !== "symlink" && type !== "hardlink") linkname = "";
  if (type === "hardlink") linkname = normalizeTarPath(linkname);
  const path = normalizeTarPath(rawPath);
  if (!allowUnsafePaths)
    checkPaths(rawPath, path, type === "hardlink" ? linkname : undefined, entryOffset);

  const hasNames = ustar || gnu;
  const header: TarHeader = {
    path,
    type,
    mode: headerNumber(block, "mode", offset) & 0o7777,
    uid: paxNumber("uid", headerNumber(block, "uid", offset)),
    gid: paxNumber("gid", headerNumber(block, "gid", offset)),
    uname: paxString("uname", () => (hasNames ? textField(block, "uname") : "")),
    gname: paxString("gname", () => (hasNames ? textField(block, "gname") : "")),
    size: 0,
    mtime: paxTime("mtime") ?? headerNumber(block, "mtime", offset),
    linkname,
    devmajor: 0,
    devminor: 0,
  };
  if (type === "char" || type === "block") {
    header.devmajor = paxNumber(
      "SCHILY.devmajor",
      hasNames ? headerNumber(block, "devmajor", offset) : 0,
    );
    header.devminor = paxNumber(
      "SCHILY.devminor",
      hasNames ? headerNumber(block, "devminor", offset) : 0,
    );
  }
  const atime = paxTime("atime") ?? (gnu ? gnuTime(block, "gnuAtime") : undefined);
  const ctime = paxTime("ctime") ?? (gnu ? gnuTime(block, "gnuCtime") : undefined);
  if (atime !== undefined) header.atime = atime;
  if (ctime !== undefined) header.ctime = ctime;
  if (hasXattrs) header.xattrs = xattrs;

  // What follows the header: data for files; for hard links only in pax
  // archives (POSIX 2001 allows it; older writers put the target's size in
  // the header with no data); a listing for GNU dumpdirs; nothing for the
  // other types, whatever their size field says (ustar stores no data for them).
  const isPax = ext.records.length > 0 || global.size > 0;
  const hasData = type === "file" || flag === "D" || (type === "hardlink" && isPax);
  const storedSize = hasData ? paxNumber("size", headerNumber(block, "size", offset)) : 0;
  if (type === "file" || type === "hardlink") header.size = storedSize;
  return { header, flag, hasData, storedSize, pax, paxNumber };
}

function checkPaths(
  rawPath: string,
  path: string,
  hardlink: string | undefined,
  offset: number,
): void {
  const problem = tarPathProblem(path);
  if (problem) {
    throw new TarUnsafePathError(
      `Cannot read tar member '${rawPath}' at offset ${offset}: its path is unsafe (${problem})`,
      offset,
      rawPath,
    );
  }
  const linkProblem = hardlink === undefined ? undefined : tarPathProblem(hardlink);
  if (linkProblem) {
    throw new TarUnsafePathError(
      `Cannot read tar member '${rawPath}' at offset ${offset}: its hard link target '${hardlink}' is unsafe (${linkProblem})`,
      offset,
      hardlink as string,
    );
  }
}

function gnuTime(block: Uint8Array, f: "gnuAtime" | "gnuCtime"): number | undefined {
  const bytes = field(block, f);
  return isZero(bytes) ? undefined : parseNumber(bytes);
}
