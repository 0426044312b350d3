// Where a deflate stream (RFC 1951) ends, found by walking its blocks without
// producing output. DecompressionStream refuses bytes after the end of the
// stream (Compression Streams spec), while qcow2 packs compressed clusters
// byte by byte and records only a sector count: the reader must hand over the
// stream's exact bytes.

/** Extra bits of length symbols 257..285. */
const LENGTH_EXTRA = [
  0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/** The order code length code lengths come in (RFC 1951 3.2.7). */
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** Thrown inside the walk when the stream is cut short or malformed. */
class BadStream extends Error {}

/** A canonical Huffman code as counts per length and symbols in code order. */
interface Huffman {
  counts: Uint16Array;
  symbols: Uint16Array;
}

function huffman(lengths: ArrayLike<number>): Huffman {
  const counts = new Uint16Array(16);
  for (let s = 0; s < lengths.length; s++) {
    const len = lengths[s] as number;
    counts[len] = (counts[len] as number) + 1;
  }
  counts[0] = 0;
  const offsets = new Uint16Array(16);
  for (let len = 1; len < 16; len++) {
    offsets[len] = (offsets[len - 1] as number) + (counts[len - 1] as number);
  }
  const symbols = new Uint16Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) {
    const len = lengths[s] as number;
    if (len === 0) continue;
    const at = offsets[len] as number;
    symbols[at] = s;
    offsets[len] = at + 1;
  }
  return { counts, symbols };
}

const FIXED_LITLEN = huffman(
  Array.from({ length: 288 }, (_, s) => (s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8)),
);
const FIXED_DIST = huffman(new Array(30).fill(5));

class BitReader {
  #data: Uint8Array;
  #bit = 0;
  constructor(data: Uint8Array, start: number) {
    this.#data = data;
    this.#bit = start * 8;
  }
  bits(n: number): number {
    let value = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.#data[this.#bit >> 3];
      if (byte === undefined) throw new BadStream();
      value |= ((byte >> (this.#bit & 7)) & 1) << i;
      this.#bit++;
    }
    return value;
  }
  /** Codes are packed from their first bit (RFC 1951 3.1.1): decode one bit at a time. */
  decode(h: Huffman): number {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len < 16; len++) {
      code |= this.bits(1);
      const count = h.counts[len] as number;
      if (code - first < count) return h.symbols[index + code - first] as number;
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new BadStream();
  }
  alignedByte(): number {
    return Math.ceil(this.#bit / 8);
  }
  skipBytes(n: number): void {
    this.#bit = this.alignedByte() * 8 + n * 8;
    if (this.#bit > this.#data.length * 8) throw new BadStream();
  }
}

function dynamicCodes(r: BitReader): [Huffman, Huffman] {
  const nlen = r.bits(5) + 257;
  const ndist = r.bits(5) + 1;
  const ncode = r.bits(4) + 4;
  if (nlen > 286 || ndist > 30) throw new BadStream();
  const codeLengths = new Uint8Array(19);
  for (let i = 0; i < ncode; i++) codeLengths[CODE_LENGTH_ORDER[i] as number] = r.bits(3);
  const lengthCode = huffman(codeLengths);
  const lengths = new Uint8Array(nlen + ndist);
  for (let i = 0; i < lengths.length; ) {
    const symbol = r.decode(lengthCode);
    if (symbol < 16) {
      lengths[i++] = symbol;
      continue;
    }
    let repeat: number;
    let value = 0;
    if (symbol === 16) {
      if (i === 0) throw new BadStream();
      value = lengths[i - 1] as number;
      repeat = 3 + r.bits(2);
    } else repeat = symbol === 17 ? 3 + r.bits(3) : 11 + r.bits(7);
    if (i + repeat > lengths.length) throw new BadStream();
    lengths.fill(value, i, i + repeat);
    i += repeat;
  }
  if (lengths[256] === 0) throw new BadStream(); // no end-of-block code
  return [huffman(lengths.subarray(0, nlen)), huffman(lengths.subarray(nlen))];
}

/**
 * The length in bytes of the raw deflate stream that starts at `start` in
 * `data` (up to the byte holding its last bit); undefined when the stream is
 * cut short or malformed.
 */
export function deflateStreamLength(data: Uint8Array, start = 0): number | undefined {
  const r = new BitReader(data, start);
  try {
    for (;;) {
      const final = r.bits(1);
      const type = r.bits(2);
      if (type === 0) {
        const at = r.alignedByte();
        const len = (data[at] ?? 0) | ((data[at + 1] ?? 0) << 8);
        const nlen = (data[at + 2] ?? 0) | ((data[at + 3] ?? 0) << 8);
        if (at + 4 > data.length || (len ^ 0xffff) !== nlen) return undefined;
        r.skipBytes(4 + len);
      } else if (type === 3) {
        return undefined;
      } else {
        const [litlen, dist] = type === 1 ? [FIXED_LITLEN, FIXED_DIST] : dynamicCodes(r);
        for (;;) {
          const symbol = r.decode(litlen);
          if (symbol < 256) continue;
          if (symbol === 256) break;
          if (symbol > 285) return undefined;
          r.bits(LENGTH_EXTRA[symbol - 257] as number);
          const d = r.decode(dist);
          if (d > 29) return undefined;
          r.bits(d < 4 ? 0 : (d >> 1) - 1);
        }
      }
      if (final) return r.alignedByte() - start;
    }
  } catch (error) {
    if (error instanceof BadStream) return undefined;
    throw error;
  }
}
