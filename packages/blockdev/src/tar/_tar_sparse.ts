// GNU sparse members: the map of data ranges in the old GNU header (type
// `S`, with extension blocks) or in pax records (formats 0.0 and 0.1), or at
// the start of the data (format 1.0). Described in the GNU tar manual,
// "Storing Sparse Files".
import { zeroChunks } from "../zeros.ts";
import { paxText } from "./_pax.ts";
import type { Decoded, Extensions } from "./_tar_entry.ts";
import { headerNumber } from "./_tar_entry.ts";
import { BLOCK, field, parseNumber } from "./_tar_format.ts";
import type { TarInput } from "./_tar_input.ts";
import type { TarSparseRange } from "./tar_header.ts";
import { TarSyntaxError } from "./tar_syntax_error.ts";

/** A sparse member's layout. */
export interface SparseLayout {
  /** Data ranges, in order, empty ones dropped. */
  ranges: TarSparseRange[];
  /** The file's size. */
  realSize: number;
  /** Bytes of map read from the data area (format 1.0), to subtract from the stored size. */
  mapBytes: number;
}

/** Which sparse format a member uses, if any. */
export function sparseFormat(
  decoded: Decoded,
  ext: Extensions,
): "old" | "0.0" | "0.1" | "1.0" | undefined {
  if (decoded.flag === "S") return "old";
  const { pax } = decoded;
  if (pax.has("GNU.sparse.major") || pax.has("GNU.sparse.realsize")) return "1.0";
  if (pax.has("GNU.sparse.map")) return "0.1";
  if (ext.records.some((r) => r.key === "GNU.sparse.offset")) return "0.0";
  return undefined;
}

/** Reads a sparse member's map (from its header, pax records or data area). */
export async function readSparseLayout(
  format: "old" | "0.0" | "0.1" | "1.0",
  block: Uint8Array,
  offset: number,
  decoded: Decoded,
  ext: Extensions,
  input: TarInput,
  maxHeader: number,
): Promise<SparseLayout> {
  const { paxNumber } = decoded;
  const path = decoded.header.path;
  let map: TarSparseRange[];
  let realSize: number;
  let mapBytes = 0;
  if (format === "old") {
    realSize = headerNumber(block, "gnuRealSize", offset);
    map = entries(field(block, "gnuSparse"), 4, offset);
    let extended = block[482] !== 0;
    let bytes = 0;
    while (extended) {
      const at = input.position;
      bytes += BLOCK;
      if (bytes > maxHeader) {
        throw new TarSyntaxError(
          `Cannot read GNU sparse map at offset ${at}: it is longer than ${maxHeader} bytes`,
          at,
        );
      }
      const more = await input.exactly(BLOCK, `the GNU sparse map of '${path}'`);
      map.push(...entries(more.subarray(0, 504), 21, at));
      extended = more[504] !== 0;
    }
  } else if (format === "1.0") {
    const major = decoded.pax.get("GNU.sparse.major");
    const minor = decoded.pax.get("GNU.sparse.minor");
    if ((major && paxText(major) !== "1") || (minor && paxText(minor) !== "0")) {
      throw new TarSyntaxError(
        `Cannot read tar member '${path}' at offset ${offset}: GNU sparse format ${major ? paxText(major) : "?"}.${minor ? paxText(minor) : "?"} is not supported`,
        offset,
      );
    }
    realSize = paxNumber("GNU.sparse.realsize", paxNumber("GNU.sparse.size", 0));
    const read = await readDataMap(input, maxHeader, path);
    map = read.map;
    mapBytes = read.bytes;
  } else {
    realSize = paxNumber("GNU.sparse.size", paxNumber("GNU.sparse.realsize", 0));
    const numbers: number[] = [];
    if (format === "0.1") {
      const text = paxText(decoded.pax.get("GNU.sparse.map") as Uint8Array);
      for (const part of text.split(",")) numbers.push(decimal(part, offset));
    } else {
      for (const r of ext.records) {
        if (r.key === "GNU.sparse.offset" || r.key === "GNU.sparse.numbytes") {
          numbers.push(decimal(paxText(r.value), offset));
        }
      }
    }
    map = pairs(numbers, offset);
  }
  check(map, realSize, decoded.storedSize - mapBytes, path, offset);
  return { ranges: map.filter((r) => r.length > 0), realSize, mapBytes };
}

/** The whole file: zeros for the holes, stored bytes for the ranges. */
export async function* sparseBody(
  layout: SparseLayout,
  readStored: (n: number) => AsyncGenerator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const range of layout.ranges) {
    yield* zeroChunks(range.offset - at);
    yield* readStored(range.length);
    at = range.offset + range.length;
  }
  yield* zeroChunks(layout.realSize - at);
}

function entries(bytes: Uint8Array, count: number, offset: number): TarSparseRange[] {
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

function decimal(text: string, offset: number): number {
  const t = text.trim();
  if (!/^\d{1,16}$/.test(t) || !Number.isSafeInteger(Number(t))) {
    throw new TarSyntaxError(
      `Cannot read GNU sparse map at offset ${offset}: '${t.slice(0, 40)}' is not a number`,
      offset,
    );
  }
  return Number(t);
}

function pairs(numbers: number[], offset: number): TarSparseRange[] {
  if (numbers.length % 2 !== 0) {
    throw new TarSyntaxError(
      `Cannot read GNU sparse map at offset ${offset}: it has an odd number of values`,
      offset,
    );
  }
  const map: TarSparseRange[] = [];
  for (let i = 0; i < numbers.length; i += 2) {
    map.push({ offset: numbers[i] as number, length: numbers[i + 1] as number });
  }
  return map;
}

/** Format 1.0: decimal lines (count, then offset/length pairs), padded to a block. */
async function readDataMap(
  input: TarInput,
  maxHeader: number,
  path: string,
): Promise<{ map: TarSparseRange[]; bytes: number }> {
  const start = input.position;
  const numbers: number[] = [];
  let count = -1;
  let digits = "";
  let bytes = 0;
  while (count < 0 || numbers.length < 2 * count) {
    if (bytes >= maxHeader) {
      throw new TarSyntaxError(
        `Cannot read GNU sparse map at offset ${start}: it is longer than ${maxHeader} bytes`,
        start,
      );
    }
    const block = await input.exactly(BLOCK, `the GNU sparse map of '${path}'`);
    bytes += BLOCK;
    for (const byte of block) {
      if (byte === 0x0a) {
        const value = decimal(digits, start);
        digits = "";
        if (count < 0) count = value;
        else numbers.push(value);
        if (count >= 0 && numbers.length >= 2 * count) break;
      } else if (byte >= 0x30 && byte <= 0x39 && digits.length < 17)
        digits += String.fromCharCode(byte);
      else {
        throw new TarSyntaxError(
          `Cannot read GNU sparse map of '${path}' at offset ${start}: byte 0x${byte.toString(16)} is not a digit`,
          start,
        );
      }
    }
  }
  return { map: pairs(numbers, start), bytes };
}

function check(
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
