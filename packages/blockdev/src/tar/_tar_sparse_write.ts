// Writing GNU sparse members in pax format 1.0 (GNU tar manual, "Storing
// Sparse Files"): pax records GNU.sparse.major=1, minor=0, name, realsize;
// the ustar name `dir/GNUSparseFile.0/base`; the data area starts with the
// map (decimal lines: count, then offset and length of each range, padded to a
// block) followed by the bytes of the ranges.
import { isZero, ZERO_CHUNK_SIZE, zeros } from "../zeros.ts";
import type { SparseHeader } from "./_tar_encode.ts";
import { BLOCK, encoder, paxRecord } from "./_tar_format.ts";
import type { TarSparseRange } from "./tar_header.ts";

/** A checked map and what it costs in the archive. */
export interface SparsePlan {
  header: SparseHeader;
  /** Ranges with data, in order. */
  ranges: TarSparseRange[];
  /** The map block(s) at the start of the data area. */
  map: Uint8Array;
}

/** Checks `ranges` against `size` and lays out the pax header and map. */
export function planSparse(
  path: string,
  size: number,
  ranges: readonly TarSparseRange[],
): SparsePlan {
  const where = `Cannot write sparse tar member '${path}'`;
  let at = 0;
  let data = 0;
  const kept: TarSparseRange[] = [];
  for (const r of ranges) {
    if (
      !Number.isSafeInteger(r.offset) ||
      !Number.isSafeInteger(r.length) ||
      r.offset < at ||
      r.length < 0
    ) {
      throw new RangeError(
        `${where}: range ${r.offset}+${r.length} is not in order after byte ${at}`,
      );
    }
    if (r.offset + r.length > size) {
      throw new RangeError(`${where}: range ${r.offset}+${r.length} ends past its size ${size}`);
    }
    at = r.offset + r.length;
    data += r.length;
    if (r.length > 0) kept.push(r);
  }
  // GNU tar ends the map with an empty range at the end of a trailing hole,
  // which is what gives the extracted file its size.
  const listed = at < size || kept.length === 0 ? [...kept, { offset: size, length: 0 }] : kept;
  let text = `${listed.length}\n`;
  for (const r of listed) text += `${r.offset}\n${r.length}\n`;
  const bytes = encoder.encode(text);
  const map = new Uint8Array(Math.ceil(bytes.length / BLOCK) * BLOCK);
  map.set(bytes);
  const slash = path.lastIndexOf("/");
  const name =
    slash < 0
      ? `GNUSparseFile.0/${path}`
      : `${path.slice(0, slash)}/GNUSparseFile.0/${path.slice(slash + 1)}`;
  return {
    ranges: kept,
    map,
    header: {
      name,
      storedSize: map.length + data,
      records: [
        paxRecord("GNU.sparse.major", "1"),
        paxRecord("GNU.sparse.minor", "0"),
        paxRecord("GNU.sparse.name", path),
        paxRecord("GNU.sparse.realsize", String(size)),
      ],
    },
  };
}

/**
 * The stored bytes of a sparse member: the bytes of `body` (the whole file)
 * inside the ranges. Bytes in holes must be zeros (views of the shared zero
 * buffer are trusted without a look).
 */
export async function* sparseData(
  path: string,
  ranges: TarSparseRange[],
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const shared = zeros(ZERO_CHUNK_SIZE).buffer;
  let index = 0;
  let pos = 0;
  for await (const chunk of body) {
    let at = 0;
    while (at < chunk.length) {
      const range = ranges[index];
      const start = range ? range.offset : Number.POSITIVE_INFINITY;
      if (pos < start) {
        // A hole up to the next range.
        const n = Math.min(chunk.length - at, start - pos);
        const hole = chunk.subarray(at, at + n);
        if (hole.buffer !== shared && !isZero(hole)) {
          const nonzero = hole.findIndex((b) => b !== 0);
          throw new RangeError(
            `Cannot write sparse tar member '${path}': byte ${pos + nonzero} is not zero but lies in a hole of its map`,
          );
        }
        at += n;
        pos += n;
        continue;
      }
      const end = (range as TarSparseRange).offset + (range as TarSparseRange).length;
      const n = Math.min(chunk.length - at, end - pos);
      yield chunk.subarray(at, at + n);
      at += n;
      pos += n;
      if (pos === end) index++;
    }
  }
}
