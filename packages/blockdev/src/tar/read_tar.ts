import { ExactReader, UnexpectedEndError } from "../exact_reader.ts";
import { isZero, zeroChunks } from "../zeros.ts";
import { type PaxRecord, parsePaxRecords, paxText } from "./_pax.ts";
import {
  BLOCK,
  checksums,
  cstring,
  decodeName,
  field,
  parseNumber,
  parsePaxTime,
  textField,
} from "./_tar_format.ts";
import type { TarEntry, TarEntryType, TarSparseRange } from "./tar_header.ts";
import { normalizeTarPath, tarPathProblem } from "./tar_path.ts";
import { TarSyntaxError, TarUnsafePathError } from "./tar_syntax_error.ts";

/** Options of {@linkcode readTar}. */
export interface ReadTarOptions {
  /**
   * Yield members whose path or hard link target is absolute or has a `..`
   * component instead of throwing {@linkcode TarUnsafePathError}; check them
   * with {@linkcode tarPathProblem}.
   * @default {false}
   */
  allowUnsafePaths?: boolean;
  /**
   * The largest pax extended header, GNU long name or sparse map accepted, in bytes.
   * @default {1048576}
   */
  maxHeaderSize?: number;
  /**
   * After the end-of-archive blocks, read (and discard) the rest of the
   * input, as GNU tar does, so that a writer into a pipe is not cut off.
   * @default {true}
   */
  drain?: boolean;
}

/** Pending extended information for the next real header. */
interface Pending {
  pax: PaxRecord[];
  longName?: Uint8Array;
  longLink?: Uint8Array;
}

interface BodyState {
  /** Bytes of the member still in the archive (data, maps), then the padding. */
  stored: number;
  padding: number;
  closed: boolean;
  path: string;
}

const MIB = 1 << 20;
const GNU_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72, 0x20, 0x20, 0x00]; // "ustar  \0"
const USTAR_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72]; // "ustar"

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "directory",
  "6": "fifo",
  D: "directory", // GNU dumpdir: a directory whose body lists its contents
};

/**
 * Reads a tar archive as a stream of members, each with a body that streams
 * its bytes. Reads ustar, pax (`x` and `g` headers: path, linkpath, size,
 * uid, gid, uname, gname, mtime, atime, ctime, `SCHILY.xattr.*`), GNU (long
 * names `L`/`K`, base-256 numbers, sparse members old and pax 0.0/0.1/1.0)
 * and v7 archives. Checksums are verified (signed or unsigned sums). The
 * archive ends at a zero block or at the end of the input.
 *
 * Memory stays bounded: bodies stream, and extended headers are capped by
 * `maxHeaderSize`. Paths are normalised by {@linkcode normalizeTarPath};
 * unsafe ones throw {@linkcode TarUnsafePathError} unless `allowUnsafePaths`.
 *
 * @param source The archive's bytes (a `ReadableStream` or any async iterable).
 * @param options See {@linkcode ReadTarOptions}.
 * @returns Members in archive order.
 * @throws {TarSyntaxError} For a corrupt or truncated archive, with the byte offset.
 *
 * @example Usage
 * ```ts
 * import { readTar } from "@bigfile/blockdev";
 * import { createReadStream } from "node:fs";
 * for await (const entry of readTar(createReadStream("boot.tar"))) {
 *   console.log(entry.type, entry.path, entry.size);
 *   // entry.body streams the bytes; skipped when not read
 * }
 * ```
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ReadTarOptions = {},
): AsyncGenerator<TarEntry> {
  const reader = new ExactReader(Symbol.asyncIterator in source ? source : toAsync(source));
  const maxHeader = options.maxHeaderSize ?? MIB;
  const global = new Map<string, Uint8Array>();
  let pending: Pending = { pax: [] };
  let pendingOffset = -1;
  let previous: BodyState | undefined;

  const truncated = (error: unknown, what: string): never => {
    if (error instanceof UnexpectedEndError) {
      throw new TarSyntaxError(
        `Cannot read tar archive: it ends inside ${what} (reading ${error.needed} bytes at offset ${error.offset})`,
        error.offset,
        { cause: error },
      );
    }
    throw error;
  };

  const skipRest = async (body: BodyState): Promise<void> => {
    body.closed = true;
    try {
      await reader.skip(body.stored);
      body.stored = 0;
      await reader.skip(body.padding);
      body.padding = 0;
    } catch (error) {
      truncated(error, `member '${body.path}'`);
    }
  };

  const readMeta = async (size: number, offset: number, what: string): Promise<Uint8Array> => {
    if (size > maxHeader) {
      throw new TarSyntaxError(
        `Cannot read ${what} at offset ${offset}: it is ${size} bytes, more than the limit of ${maxHeader}`,
        offset,
      );
    }
    try {
      const bytes = await reader.readExactly(size);
      await reader.skip(padding(size));
      return new Uint8Array(bytes); // a copy, and a plain Uint8Array even from a Buffer
    } catch (error) {
      return truncated(error, what);
    }
  };

  for (;;) {
    if (previous) {
      await skipRest(previous);
      previous = undefined;
    }
    const offset = reader.position;
    if (await reader.atEnd()) {
      if (pendingOffset >= 0) {
        throw new TarSyntaxError(
          `Cannot read tar archive: it ends at offset ${offset} after an extended header at offset ${pendingOffset}`,
          offset,
        );
      }
      return;
    }
    let block: Uint8Array;
    try {
      block = await reader.readExactly(BLOCK);
    } catch (error) {
      return truncated(error, "a header block");
    }
    if (isZero(block)) {
      if (pendingOffset >= 0) {
        throw new TarSyntaxError(
          `Cannot read tar archive: an extended header at offset ${pendingOffset} is followed by the end of the archive`,
          offset,
        );
      }
      if (options.drain ?? true) for await (const _ of reader.rest());
      return;
    }
    checkHeader(block, offset);
    const flag = String.fromCharCode(block[156] as number);
    const size = number(block, "size", offset);
    if (size < 0)
      throw new TarSyntaxError(
        `Cannot read tar header at offset ${offset}: size is negative`,
        offset,
      );

    if (flag === "x" || flag === "g" || flag === "X") {
      const records = parsePaxRecords(
        await readMeta(size, offset, "a pax extended header"),
        offset,
      );
      if (flag === "g") {
        for (const r of records) {
          if (r.value.length === 0) global.delete(r.key);
          else global.set(r.key, r.value);
        }
      } else {
        pending.pax.push(...records);
        pendingOffset = offset;
      }
      continue;
    }
    if (flag === "L" || flag === "K") {
      const bytes = cstring(await readMeta(size, offset, "a GNU long name"));
      if (flag === "L") pending.longName = bytes;
      else pending.longLink = bytes;
      pendingOffset = offset;
      continue;
    }
    if (flag === "V") {
      // GNU volume label: not a file.
      previous = { stored: size, padding: padding(size), closed: true, path: "volume label" };
      continue;
    }
    if (flag === "M" || flag === "N") {
      throw new TarSyntaxError(
        `Cannot read tar member at offset ${offset}: GNU ${flag === "M" ? "multi-volume continuation" : "old long name"} members are not supported`,
        offset,
      );
    }

    const entryOffset = pendingOffset >= 0 ? pendingOffset : offset;
    const ext = pending;
    pending = { pax: [] };
    pendingOffset = -1;
    const pax = new Map(global);
    for (const key of ["path", "linkpath", "size"]) pax.delete(key);
    const xattrs: Record<string, Uint8Array> = {};
    let hasXattrs = false;
    for (const [key, value] of global) {
      if (key.startsWith("SCHILY.xattr.")) {
        xattrs[key.slice(13)] = value;
        hasXattrs = true;
      }
    }
    for (const r of ext.pax) {
      if (r.key.startsWith("SCHILY.xattr.")) {
        xattrs[r.key.slice(13)] = r.value;
        hasXattrs = true;
      } else if (r.value.length === 0) pax.delete(r.key);
      else pax.set(r.key, r.value);
    }

    const gnu = GNU_MAGIC.every((b, i) => block[257 + i] === b);
    const ustar = !gnu && USTAR_MAGIC.every((b, i) => block[257 + i] === b);
    let rawPath: string;
    const paxPath = pax.get("GNU.sparse.name") ?? pax.get("path");
    if (paxPath) rawPath = paxText(paxPath);
    else if (ext.longName) rawPath = decodeName(ext.longName);
    else {
      rawPath = textField(block, "name");
      if (ustar) {
        const prefix = textField(block, "prefix");
        if (prefix) rawPath = `${prefix}/${rawPath}`;
      }
    }
    if (rawPath === "")
      throw new TarSyntaxError(
        `Cannot read tar header at offset ${offset}: the member has no name`,
        offset,
      );
    if (rawPath.includes("\0")) {
      throw new TarSyntaxError(
        `Cannot read tar header at offset ${offset}: the member name has a NUL byte`,
        offset,
      );
    }

    let type: TarEntryType = TYPES[flag] ?? "file";
    const sparseOld = flag === "S";
    if (sparseOld) type = "file";
    if (type === "file" && rawPath.endsWith("/") && (flag === "0" || flag === "\0"))
      type = "directory";

    let linkname = "";
    const paxLink = pax.get("linkpath");
    if (paxLink) linkname = paxText(paxLink);
    else if (ext.longLink) linkname = decodeName(ext.longLink);
    else linkname = textField(block, "linkname");

    const path = normalizeTarPath(rawPath);
    if (type === "hardlink") linkname = normalizeTarPath(linkname);
    if (!options.allowUnsafePaths) {
      const problem = tarPathProblem(path);
      if (problem) {
        throw new TarUnsafePathError(
          `Cannot read tar member '${rawPath}' at offset ${entryOffset}: its path is unsafe (${problem})`,
          entryOffset,
          rawPath,
        );
      }
      const linkProblem = type === "hardlink" ? tarPathProblem(linkname) : undefined;
      if (linkProblem) {
        throw new TarUnsafePathError(
          `Cannot read tar member '${rawPath}' at offset ${entryOffset}: its hard link target '${linkname}' is unsafe (${linkProblem})`,
          entryOffset,
          linkname,
        );
      }
    }

    const paxNumber = (key: string, fallback: number): number => {
      const v = pax.get(key);
      if (!v) return fallback;
      const text = paxText(v);
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
        throw new TarSyntaxError(
          `Cannot read pax extended header at offset ${entryOffset}: ${key} is '${text}'`,
          entryOffset,
        );
      }
      return Number(text);
    };
    const paxTimeOf = (key: string): number | undefined => {
      const v = pax.get(key);
      if (!v) return undefined;
      const t = parsePaxTime(paxText(v));
      if (t === undefined) {
        throw new TarSyntaxError(
          `Cannot read pax extended header at offset ${entryOffset}: ${key} is '${paxText(v)}'`,
          entryOffset,
        );
      }
      return t;
    };

    const storedSize = paxNumber("size", size);
    const hasDevice = ustar || gnu;
    const entry: TarEntry = {
      path,
      type,
      mode: number(block, "mode", offset) & 0o7777,
      uid: paxNumber("uid", number(block, "uid", offset)),
      gid: paxNumber("gid", number(block, "gid", offset)),
      uname: pax.has("uname")
        ? paxText(pax.get("uname") as Uint8Array)
        : hasDevice
          ? textField(block, "uname")
          : "",
      gname: pax.has("gname")
        ? paxText(pax.get("gname") as Uint8Array)
        : hasDevice
          ? textField(block, "gname")
          : "",
      size: 0,
      mtime: paxTimeOf("mtime") ?? number(block, "mtime", offset),
      linkname: type === "symlink" || type === "hardlink" ? linkname : "",
      devmajor: 0,
      devminor: 0,
      body: emptyBody,
    };
    if (type === "char" || type === "block") {
      entry.devmajor = paxNumber(
        "SCHILY.devmajor",
        hasDevice ? number(block, "devmajor", offset) : 0,
      );
      entry.devminor = paxNumber(
        "SCHILY.devminor",
        hasDevice ? number(block, "devminor", offset) : 0,
      );
    }
    const atime = paxTimeOf("atime") ?? (gnu ? gnuTime(block, "gnuAtime") : undefined);
    const ctime = paxTimeOf("ctime") ?? (gnu ? gnuTime(block, "gnuCtime") : undefined);
    if (atime !== undefined) entry.atime = atime;
    if (ctime !== undefined) entry.ctime = ctime;
    if (hasXattrs) entry.xattrs = xattrs;

    // Which bytes follow the header: data for files and data-carrying hard
    // links; nothing for the other types (ustar stores no data for them),
    // except GNU dumpdirs, whose listing is skipped.
    // Hard links carry data only in pax archives (POSIX 2001); older writers
    // put the target's size in the header with no data, so it is ignored.
    const hasData =
      type === "file" || (type === "hardlink" && (ext.pax.length > 0 || global.size > 0));
    const state: BodyState = {
      stored: hasData || flag === "D" ? storedSize : 0,
      padding: hasData || flag === "D" ? padding(storedSize) : 0,
      closed: false,
      path,
    };
    previous = state;

    const readStored = async function* (n: number): AsyncGenerator<Uint8Array> {
      let left = n;
      while (left > 0) {
        if (state.closed) {
          throw new TypeError(
            `Cannot read the body of tar member '${path}': the reader has moved past it`,
          );
        }
        let chunk: Uint8Array;
        try {
          chunk = await reader.readUpTo(Math.min(left, MIB));
        } catch (error) {
          return truncated(error, `member '${path}'`);
        }
        if (chunk.length === 0) {
          throw new TarSyntaxError(
            `Cannot read tar archive: it ends at offset ${reader.position} inside member '${path}' (${left} more bytes expected)`,
            reader.position,
          );
        }
        left -= chunk.length;
        state.stored -= chunk.length;
        yield chunk;
      }
    };

    const sparseVersion = sparseOld
      ? "old"
      : pax.has("GNU.sparse.major") || pax.has("GNU.sparse.realsize")
        ? "1.0"
        : pax.has("GNU.sparse.map")
          ? "0.1"
          : ext.pax.some((r) => r.key === "GNU.sparse.offset")
            ? "0.0"
            : undefined;

    if (hasData && sparseVersion === undefined) {
      entry.size = storedSize;
      entry.body = onceBody(path, () => readStored(storedSize));
    } else if (hasData) {
      let map: TarSparseRange[];
      let realSize: number;
      let prefixBytes = 0;
      if (sparseVersion === "old") {
        realSize = number(block, "gnuRealSize", offset);
        map = sparseEntries(field(block, "gnuSparse"), 4, offset);
        let extended = block[482] !== 0;
        let extensions = 0;
        while (extended) {
          const at = reader.position;
          if (++extensions * BLOCK > maxHeader) {
            throw new TarSyntaxError(
              `Cannot read GNU sparse map at offset ${at}: it is longer than ${maxHeader} bytes`,
              at,
            );
          }
          let ext: Uint8Array;
          try {
            ext = await reader.readExactly(BLOCK);
          } catch (error) {
            return truncated(error, "a GNU sparse map");
          }
          map.push(...sparseEntries(ext.subarray(0, 504), 21, at));
          extended = ext[504] !== 0;
        }
      } else if (sparseVersion === "1.0") {
        const major = pax.get("GNU.sparse.major");
        if (major && paxText(major) !== "1") {
          throw new TarSyntaxError(
            `Cannot read tar member '${path}' at offset ${entryOffset}: GNU sparse format ${paxText(major)} is not supported`,
            entryOffset,
          );
        }
        realSize = paxNumber("GNU.sparse.realsize", paxNumber("GNU.sparse.size", 0));
        const parsed = await readSparseMap1(reader, maxHeader, path, truncated);
        map = parsed.map;
        prefixBytes = parsed.bytes;
        state.stored -= prefixBytes;
      } else {
        realSize = paxNumber("GNU.sparse.size", paxNumber("GNU.sparse.realsize", 0));
        const numbers: number[] = [];
        if (sparseVersion === "0.1") {
          const text = paxText(pax.get("GNU.sparse.map") as Uint8Array);
          if (text !== "")
            for (const part of text.split(",")) numbers.push(sparseNumber(part, entryOffset));
        } else {
          for (const r of ext.pax) {
            if (r.key === "GNU.sparse.offset" || r.key === "GNU.sparse.numbytes") {
              numbers.push(sparseNumber(paxText(r.value), entryOffset));
            }
          }
        }
        if (numbers.length % 2 !== 0) {
          throw new TarSyntaxError(
            `Cannot read GNU sparse map at offset ${entryOffset}: odd number of values`,
            entryOffset,
          );
        }
        map = [];
        for (let i = 0; i < numbers.length; i += 2) {
          map.push({ offset: numbers[i] as number, length: numbers[i + 1] as number });
        }
      }
      checkSparseMap(map, realSize, storedSize - prefixBytes, path, entryOffset);
      entry.size = realSize;
      const ranges = map.filter((r) => r.length > 0);
      entry.sparse = ranges;
      entry.body = onceBody(path, async function* () {
        let at = 0;
        for (const range of ranges) {
          yield* zeroChunks(range.offset - at);
          yield* readStored(range.length);
          at = range.offset + range.length;
        }
        yield* zeroChunks(realSize - at);
      });
    }
    yield entry;
  }
}

async function* toAsync(source: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* source;
}

const emptyBody: AsyncIterable<Uint8Array> = {
  async *[Symbol.asyncIterator]() {},
};

function onceBody(path: string, make: () => AsyncGenerator<Uint8Array>): AsyncIterable<Uint8Array> {
  let used = false;
  return {
    [Symbol.asyncIterator]() {
      if (used) throw new TypeError(`Cannot read the body of tar member '${path}' twice`);
      used = true;
      return make();
    },
  };
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function checkHeader(block: Uint8Array, offset: number): void {
  const stored = parseNumber(field(block, "chksum"));
  const [unsigned, signed] = checksums(block);
  if (stored === unsigned || stored === signed) return;
  const what =
    offset === 0 ? "the input is not a tar archive or is corrupt" : "the archive is corrupt";
  throw new TarSyntaxError(
    `Cannot read tar header at offset ${offset}: checksum is ${stored === undefined ? "not a number" : `0o${stored.toString(8)}`}, expected 0o${unsigned.toString(8)} (${what})`,
    offset,
  );
}

function number(
  block: Uint8Array,
  f: "mode" | "uid" | "gid" | "size" | "mtime" | "devmajor" | "devminor" | "gnuRealSize",
  offset: number,
): number {
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

function gnuTime(block: Uint8Array, f: "gnuAtime" | "gnuCtime"): number | undefined {
  const bytes = field(block, f);
  if (isZero(bytes)) return undefined;
  return parseNumber(bytes);
}

function sparseEntries(bytes: Uint8Array, count: number, offset: number): TarSparseRange[] {
  const out: TarSparseRange[] = [];
  for (let i = 0; i < count; i++) {
    const o = bytes.subarray(i * 24, i * 24 + 12);
    const n = bytes.subarray(i * 24 + 12, i * 24 + 24);
    if (o[0] === 0 && n[0] === 0) break;
    const start = parseNumber(o);
    const length = parseNumber(n);
    if (start === undefined || length === undefined || start < 0 || length < 0) {
      throw new TarSyntaxError(
        `Cannot read GNU sparse map at offset ${offset}: entry ${i} is not a number`,
        offset,
      );
    }
    out.push({ offset: start, length });
  }
  return out;
}

function sparseNumber(text: string, offset: number): number {
  const t = text.trim();
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) {
    throw new TarSyntaxError(
      `Cannot read GNU sparse map at offset ${offset}: '${text}' is not a number`,
      offset,
    );
  }
  return Number(t);
}

/** Reads the GNU sparse 1.0 map at the start of the data: decimal lines, padded to a block. */
async function readSparseMap1(
  reader: ExactReader,
  maxHeader: number,
  path: string,
  truncated: (error: unknown, what: string) => never,
): Promise<{ map: TarSparseRange[]; bytes: number }> {
  const start = reader.position;
  const numbers: number[] = [];
  let line = "";
  let bytes = 0;
  let count = -1;
  const decoder = new TextDecoder("latin1");
  try {
    while (count < 0 || numbers.length < 1 + 2 * count) {
      if (bytes >= maxHeader) {
        throw new TarSyntaxError(
          `Cannot read GNU sparse map at offset ${start}: it is longer than ${maxHeader} bytes`,
          start,
        );
      }
      const block = await reader.readExactly(BLOCK);
      bytes += BLOCK;
      const text = decoder.decode(block);
      for (const ch of text) {
        if (count >= 0 && numbers.length >= 1 + 2 * count) break;
        if (ch === "\n") {
          numbers.push(sparseNumber(line, start));
          line = "";
          if (numbers.length === 1) count = numbers[0] as number;
        } else if (ch >= "0" && ch <= "9" && line.length < 20) line += ch;
        else {
          throw new TarSyntaxError(
            `Cannot read GNU sparse map of '${path}' at offset ${start}: unexpected byte`,
            start,
          );
        }
      }
    }
  } catch (error) {
    if (error instanceof TarSyntaxError) throw error;
    truncated(error, `the GNU sparse map of '${path}'`);
  }
  numbers.shift();
  const map: TarSparseRange[] = [];
  for (let i = 0; i < numbers.length; i += 2)
    map.push({ offset: numbers[i] as number, length: numbers[i + 1] as number });
  return { map, bytes };
}

function checkSparseMap(
  map: TarSparseRange[],
  realSize: number,
  stored: number,
  path: string,
  offset: number,
): void {
  let at = 0;
  let total = 0;
  for (const r of map) {
    if (r.offset < at || r.offset + r.length > realSize) {
      throw new TarSyntaxError(
        `Cannot read GNU sparse member '${path}' at offset ${offset}: range ${r.offset}+${r.length} is out of order or beyond its size ${realSize}`,
        offset,
      );
    }
    at = r.offset + r.length;
    total += r.length;
  }
  if (total !== stored) {
    throw new TarSyntaxError(
      `Cannot read GNU sparse member '${path}' at offset ${offset}: its map holds ${total} bytes but the archive stores ${stored}`,
      offset,
    );
  }
}
