/**
 * A raw LZMA (LZMA1, no header) decoder for data of known length: what GRUB's
 * i386-pc core.img holds after its decompressor (grub-mkimage compresses the
 * kernel and modules with lc=3, lp=0, pb=2 and writes no header, no end mark).
 * Written after the LZMA SDK's reference decoder (LzmaSpec). Every fault (a
 * distance before the start, a bad first byte) throws a `RangeError`; the
 * output size is bounded by the caller.
 */

/** The literal/position parameters of an LZMA stream. */
export interface LzmaProperties {
  lc: number;
  lp: number;
  pb: number;
}

const PROB_INIT = 1024;
const NUM_STATES = 12;
const POS_BITS_MAX = 4;
const LEN_TO_POS_STATES = 4;
const END_POS_MODEL_INDEX = 14;
const NUM_FULL_DISTANCES = 128;
const ALIGN_BITS = 4;
const MATCH_MIN_LEN = 2;

class RangeDecoder {
  #input: Uint8Array;
  #pos: number;
  #range = 0xffffffff;
  #code = 0;

  constructor(input: Uint8Array) {
    if (input.length < 5 || input[0] !== 0) {
      throw new RangeError("Cannot decode LZMA data: the range coder's first byte is not 0");
    }
    this.#input = input;
    for (let i = 1; i < 5; i++) this.#code = this.#code * 256 + (input[i] as number);
    this.#pos = 5;
    if (this.#code === this.#range) throw new RangeError("Cannot decode LZMA data: bad range code");
  }

  #next(): number {
    const b = this.#input[this.#pos++];
    if (b === undefined) throw new RangeError("Cannot decode LZMA data: the input ends early");
    return b;
  }

  #normalize(): void {
    if (this.#range < 0x1000000) {
      this.#range = (this.#range * 256) >>> 0;
      this.#code = ((this.#code * 256) >>> 0) + this.#next();
      this.#code >>>= 0;
    }
  }

  directBits(count: number): number {
    let result = 0;
    for (let i = 0; i < count; i++) {
      this.#range >>>= 1;
      let bit = 0;
      if (this.#code >= this.#range) {
        this.#code -= this.#range;
        bit = 1;
      }
      this.#normalize();
      result = result * 2 + bit;
    }
    return result;
  }

  bit(probs: Uint16Array, index: number): number {
    const v = probs[index] as number;
    const bound = (this.#range >>> 11) * v;
    let bit: number;
    if (this.#code < bound) {
      probs[index] = v + ((2048 - v) >>> 5);
      this.#range = bound;
      bit = 0;
    } else {
      probs[index] = v - (v >>> 5);
      this.#code -= bound;
      this.#range -= bound;
      bit = 1;
    }
    this.#normalize();
    return bit;
  }

  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) + this.bit(probs, base + m);
    return m - (1 << bits);
  }

  reverseTree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let symbol = 0;
    for (let i = 0; i < bits; i++) {
      const bit = this.bit(probs, base + m);
      m = (m << 1) + bit;
      symbol |= bit << i;
    }
    return symbol;
  }
}

class LengthDecoder {
  readonly #choice = new Uint16Array(2).fill(PROB_INIT);
  readonly #low = new Uint16Array((1 << POS_BITS_MAX) << 3).fill(PROB_INIT);
  readonly #mid = new Uint16Array((1 << POS_BITS_MAX) << 3).fill(PROB_INIT);
  readonly #high = new Uint16Array(256).fill(PROB_INIT);

  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.#choice, 0) === 0) return rc.tree(this.#low, posState << 3, 3);
    if (rc.bit(this.#choice, 1) === 0) return 8 + rc.tree(this.#mid, posState << 3, 3);
    return 16 + rc.tree(this.#high, 0, 8);
  }
}

/**
 * Decodes `outSize` bytes of a raw LZMA stream (no 13-byte header).
 * Throws `RangeError` when the data cannot be what it claims.
 */
export function lzmaDecodeRaw(
  input: Uint8Array,
  outSize: number,
  props: LzmaProperties = { lc: 3, lp: 0, pb: 2 },
): Uint8Array {
  const { lc, lp, pb } = props;
  if (lc > 8 || lp > 4 || pb > 4) throw new RangeError("Cannot decode LZMA data: bad properties");
  const out = new Uint8Array(outSize);
  const rc = new RangeDecoder(input);
  const literals = new Uint16Array(0x300 << (lc + lp)).fill(PROB_INIT);
  const posSlot = new Uint16Array(LEN_TO_POS_STATES << 6).fill(PROB_INIT);
  const posDecoders = new Uint16Array(1 + NUM_FULL_DISTANCES - END_POS_MODEL_INDEX).fill(PROB_INIT);
  const align = new Uint16Array(1 << ALIGN_BITS).fill(PROB_INIT);
  const isMatch = new Uint16Array(NUM_STATES << POS_BITS_MAX).fill(PROB_INIT);
  const isRep = new Uint16Array(NUM_STATES).fill(PROB_INIT);
  const isRepG0 = new Uint16Array(NUM_STATES).fill(PROB_INIT);
  const isRepG1 = new Uint16Array(NUM_STATES).fill(PROB_INIT);
  const isRepG2 = new Uint16Array(NUM_STATES).fill(PROB_INIT);
  const isRep0Long = new Uint16Array(NUM_STATES << POS_BITS_MAX).fill(PROB_INIT);
  const lenDecoder = new LengthDecoder();
  const repLenDecoder = new LengthDecoder();
  const pbMask = (1 << pb) - 1;
  const lpMask = (1 << lp) - 1;
  let state = 0;
  let rep0 = 0;
  let rep1 = 0;
  let rep2 = 0;
  let rep3 = 0;
  let pos = 0;

  const decodeDistance = (len: number): number => {
    const lenState = Math.min(len, LEN_TO_POS_STATES - 1);
    const slot = rc.tree(posSlot, lenState << 6, 6);
    if (slot < 4) return slot;
    const directBits = (slot >>> 1) - 1;
    let dist = (2 + (slot & 1)) * 2 ** directBits;
    if (slot < END_POS_MODEL_INDEX)
      return dist + rc.reverseTree(posDecoders, dist - slot, directBits);
    dist += rc.directBits(directBits - ALIGN_BITS) * 2 ** ALIGN_BITS;
    return dist + rc.reverseTree(align, 0, ALIGN_BITS);
  };

  while (pos < outSize) {
    const posState = pos & pbMask;
    if (rc.bit(isMatch, (state << POS_BITS_MAX) + posState) === 0) {
      const prev = pos > 0 ? (out[pos - 1] as number) : 0;
      const base = 0x300 * (((pos & lpMask) << lc) + (prev >>> (8 - lc)));
      let symbol = 1;
      if (state >= 7) {
        let matchByte = out[pos - rep0 - 1] as number;
        while (symbol < 0x100) {
          const matchBit = (matchByte >>> 7) & 1;
          matchByte <<= 1;
          const bit = rc.bit(literals, base + ((1 + matchBit) << 8) + symbol);
          symbol = (symbol << 1) | bit;
          if (matchBit !== bit) break;
        }
      }
      while (symbol < 0x100) symbol = (symbol << 1) | rc.bit(literals, base + symbol);
      out[pos++] = symbol - 0x100;
      state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
      continue;
    }
    let len: number;
    if (rc.bit(isRep, state) !== 0) {
      if (pos === 0) throw new RangeError("Cannot decode LZMA data: a repeat before any byte");
      if (rc.bit(isRepG0, state) === 0) {
        if (rc.bit(isRep0Long, (state << POS_BITS_MAX) + posState) === 0) {
          state = state < 7 ? 9 : 11;
          out[pos] = out[pos - rep0 - 1] as number;
          pos++;
          continue;
        }
      } else {
        let dist: number;
        if (rc.bit(isRepG1, state) === 0) {
          dist = rep1;
        } else {
          if (rc.bit(isRepG2, state) === 0) {
            dist = rep2;
          } else {
            dist = rep3;
            rep3 = rep2;
          }
          rep2 = rep1;
        }
        rep1 = rep0;
        rep0 = dist;
      }
      len = repLenDecoder.decode(rc, posState);
      state = state < 7 ? 8 : 11;
    } else {
      rep3 = rep2;
      rep2 = rep1;
      rep1 = rep0;
      len = lenDecoder.decode(rc, posState);
      state = state < 7 ? 7 : 10;
      rep0 = decodeDistance(len);
      if (rep0 === 0xffffffff) break; // the end mark
    }
    if (rep0 >= pos) {
      throw new RangeError(
        `Cannot decode LZMA data: a match ${rep0 + 1} bytes back at output byte ${pos}`,
      );
    }
    len += MATCH_MIN_LEN;
    const end = Math.min(pos + len, outSize);
    for (; pos < end; pos++) out[pos] = out[pos - rep0 - 1] as number;
  }
  if (pos < outSize) {
    throw new RangeError(
      `Cannot decode LZMA data: the stream ends after ${pos} of ${outSize} bytes`,
    );
  }
  return out;
}
