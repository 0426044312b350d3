/**
 * Hash-indexed (htree, dir_index) directories: the half-MD4 name hash and the
 * layout of an indexed directory (a root block, optional index nodes, leaf
 * blocks of ordinary entries in hash order).
 */
import { dirEntrySize } from "../format/dir_entry.ts";

const K2 = 0x5a827999;
const K3 = 0x6ed9eba1;

function rotl(x: number, s: number): number {
  return ((x << s) | (x >>> (32 - s))) >>> 0;
}

/** One half-MD4 transform of `buf` (4 words) with `input` (8 words). */
function halfMd4Transform(buf: Uint32Array, input: Uint32Array): void {
  let a = buf[0] as number;
  let b = buf[1] as number;
  let c = buf[2] as number;
  let d = buf[3] as number;
  const x = (i: number) => input[i] as number;
  const F = (p: number, q: number, r: number) => r ^ (p & (q ^ r));
  const G = (p: number, q: number, r: number) => ((p & q) + ((p ^ q) & r)) >>> 0;
  const H = (p: number, q: number, r: number) => p ^ q ^ r;
  // Round 1
  a = rotl((a + F(b, c, d) + x(0)) >>> 0, 3);
  d = rotl((d + F(a, b, c) + x(1)) >>> 0, 7);
  c = rotl((c + F(d, a, b) + x(2)) >>> 0, 11);
  b = rotl((b + F(c, d, a) + x(3)) >>> 0, 19);
  a = rotl((a + F(b, c, d) + x(4)) >>> 0, 3);
  d = rotl((d + F(a, b, c) + x(5)) >>> 0, 7);
  c = rotl((c + F(d, a, b) + x(6)) >>> 0, 11);
  b = rotl((b + F(c, d, a) + x(7)) >>> 0, 19);
  // Round 2
  a = rotl((a + G(b, c, d) + x(1) + K2) >>> 0, 3);
  d = rotl((d + G(a, b, c) + x(3) + K2) >>> 0, 5);
  c = rotl((c + G(d, a, b) + x(5) + K2) >>> 0, 9);
  b = rotl((b + G(c, d, a) + x(7) + K2) >>> 0, 13);
  a = rotl((a + G(b, c, d) + x(0) + K2) >>> 0, 3);
  d = rotl((d + G(a, b, c) + x(2) + K2) >>> 0, 5);
  c = rotl((c + G(d, a, b) + x(4) + K2) >>> 0, 9);
  b = rotl((b + G(c, d, a) + x(6) + K2) >>> 0, 13);
  // Round 3
  a = rotl((a + H(b, c, d) + x(3) + K3) >>> 0, 3);
  d = rotl((d + H(a, b, c) + x(7) + K3) >>> 0, 9);
  c = rotl((c + H(d, a, b) + x(2) + K3) >>> 0, 11);
  b = rotl((b + H(c, d, a) + x(6) + K3) >>> 0, 15);
  a = rotl((a + H(b, c, d) + x(1) + K3) >>> 0, 3);
  d = rotl((d + H(a, b, c) + x(5) + K3) >>> 0, 9);
  c = rotl((c + H(d, a, b) + x(0) + K3) >>> 0, 11);
  b = rotl((b + H(c, d, a) + x(4) + K3) >>> 0, 15);
  buf[0] = (buf[0] as number) + a;
  buf[1] = (buf[1] as number) + b;
  buf[2] = (buf[2] as number) + c;
  buf[3] = (buf[3] as number) + d;
}

/** Packs up to 32 name bytes into 8 words as the ext2 hash does (bytes as signed or unsigned chars). */
function nameWords(
  name: Uint8Array,
  offset: number,
  len: number,
  out: Uint32Array,
  signed: boolean,
): void {
  let pad = (len | (len << 8)) >>> 0;
  pad = (pad | (pad << 16)) >>> 0;
  let val = pad;
  let num = 8;
  let o = 0;
  const n = Math.min(len, 32);
  for (let i = 0; i < n; i++) {
    const byte = name[offset + i] as number;
    const c = signed && byte >= 128 ? byte - 256 : byte;
    val = (c + ((val << 8) >>> 0)) >>> 0;
    if (i % 4 === 3) {
      out[o++] = val;
      val = pad;
      num--;
    }
  }
  if (--num >= 0) out[o++] = val;
  while (--num >= 0) out[o++] = pad;
}

/**
 * The htree hash of a name with half-MD4 (`s_def_hash_version` 1), the major
 * hash with its low bit clear, as the kernel and e2fsck compute it.
 */
export function halfMd4Hash(name: Uint8Array, seed: Uint32Array, signed = true): number {
  const buf = new Uint32Array(4);
  if (seed[0] || seed[1] || seed[2] || seed[3]) buf.set(seed.subarray(0, 4));
  else buf.set([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
  const input = new Uint32Array(8);
  for (let p = 0, len = name.length; len > 0; p += 32, len -= 32) {
    nameWords(name, p, len, input, signed);
    halfMd4Transform(buf, input);
  }
  let hash = (buf[1] as number) & ~1;
  hash >>>= 0;
  if (hash === 0xfffffffe) hash = 0xfffffffc;
  return hash;
}

/** How an indexed directory is laid out. */
export interface HtreeLayout {
  /** 0 (root points at leaves) or 1 (root, index nodes, leaves). */
  levels: number;
  /** Total blocks: root + nodes + leaves. */
  blocks: number;
  /** Entry indexes (into the hash-sorted entries) where each leaf starts; plus the end. */
  leafStarts: number[];
  /** Hash of each leaf's first entry, with bit 0 set when it continues a collision run. */
  leafHashes: number[];
  /** Number of index nodes (level 1). */
  nodes: number;
  /** Leaves per index node. */
  nodeLimit: number;
  /** Entries the root has room for. */
  rootLimit: number;
  /** metadata_csum: leaves end with a 12-byte checksum entry, index blocks with an 8-byte tail. */
  tail: boolean;
}

/**
 * Lays out an indexed directory for entries sorted by hash (`hashes` and
 * `nameLengths` in that order). Leaves are filled in order; a run of equal
 * hashes split across leaves marks the next leaf's hash with the collision bit.
 * Returns undefined when the entries need more than two index levels.
 */
export function htreeLayout(
  hashes: ArrayLike<number>,
  nameLengths: ArrayLike<number>,
  blockSize: number,
  tail = false,
): HtreeLayout | undefined {
  const leafStarts: number[] = [];
  const leafHashes: number[] = [];
  const room = blockSize - (tail ? 12 : 0);
  let used = room;
  for (let i = 0; i < hashes.length; i++) {
    const size = dirEntrySize(nameLengths[i] as number);
    if (used + size > room) {
      leafStarts.push(i);
      const h = hashes[i] as number;
      leafHashes.push(i > 0 && hashes[i - 1] === h ? (h | 1) >>> 0 : h);
      used = 0;
    }
    used += size;
  }
  leafStarts.push(hashes.length);
  const leaves = leafHashes.length;
  const dxTail = tail ? 8 : 0;
  const rootLimit = (blockSize - 32 - dxTail) / 8;
  const nodeLimit = (blockSize - 8 - dxTail) / 8;
  const common = { leafStarts, leafHashes, nodeLimit, rootLimit, tail };
  if (leaves <= rootLimit) return { levels: 0, blocks: 1 + leaves, nodes: 0, ...common };
  const nodes = Math.ceil(leaves / nodeLimit);
  if (nodes > rootLimit) return undefined;
  return { levels: 1, blocks: 1 + nodes + leaves, nodes, ...common };
}

/** Writes the root block of an indexed directory. */
export function writeHtreeRoot(
  layout: HtreeLayout,
  ino: number,
  parentIno: number,
  block: Uint8Array,
): void {
  const v = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const bs = block.length;
  v.setUint32(0, ino, true);
  v.setUint16(4, 12, true);
  block[6] = 1;
  block[7] = 2;
  block[8] = 0x2e;
  v.setUint32(12, parentIno, true);
  v.setUint16(16, bs - 12, true);
  block[18] = 2;
  block[19] = 2;
  block[20] = 0x2e;
  block[21] = 0x2e;
  // dx_root_info
  v.setUint32(24, 0, true);
  block[28] = 1; // half_md4
  block[29] = 8;
  block[30] = layout.levels;
  block[31] = 0;
  const limit = layout.rootLimit;
  if (layout.levels === 0) {
    writeEntries(v, 32, limit, layout.leafHashes, (i) => 1 + i, 0, layout.leafHashes.length);
  } else {
    const hashes: number[] = [];
    for (let n = 0; n < layout.nodes; n++)
      hashes.push(layout.leafHashes[n * layout.nodeLimit] as number);
    writeEntries(v, 32, limit, hashes, (i) => 1 + i, 0, layout.nodes);
  }
}

/** Writes index node `n` (level 1) of an indexed directory. */
export function writeHtreeNode(layout: HtreeLayout, n: number, block: Uint8Array): void {
  const v = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const bs = block.length;
  v.setUint32(0, 0, true);
  v.setUint16(4, bs, true);
  const from = n * layout.nodeLimit;
  const to = Math.min(from + layout.nodeLimit, layout.leafHashes.length);
  writeEntries(v, 8, layout.nodeLimit, layout.leafHashes, (i) => 1 + layout.nodes + i, from, to);
}

function writeEntries(
  v: DataView,
  at: number,
  limit: number,
  hashes: readonly number[],
  blockOf: (i: number) => number,
  from: number,
  to: number,
): void {
  v.setUint16(at, limit, true);
  v.setUint16(at + 2, to - from, true);
  v.setUint32(at + 4, blockOf(from), true);
  for (let i = from + 1; i < to; i++) {
    const o = at + (i - from) * 8;
    v.setUint32(o, hashes[i] as number, true);
    v.setUint32(o + 4, blockOf(i), true);
  }
}
