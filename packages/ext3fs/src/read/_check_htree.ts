// The checks of a hash-indexed (htree) directory that e2fsck makes in its
// second pass: the root's fields, each index node's limit, count and hash
// order, every leaf referenced exactly once, each leaf's names hashing into
// the range its index gives it, and (with metadata_csum) the index tails.

import { crc32c } from "../format/_crc32c.ts";
import { halfMd4Hash } from "../write/_htree.ts";
import { parseDirBlock } from "./_decode_dirent.ts";

/** What the htree check needs about the directory and the filesystem. */
export interface HtreeInput {
  ino: number;
  blockSize: number;
  /** Physical block of each logical block of the directory (-1 for a hole). */
  blocks: number[];
  readBlock(block: number): Promise<Uint8Array>;
  hasFileType: boolean;
  /** The filesystem's hash seed (four words) and whether the hash is unsigned. */
  hashSeed: Uint32Array;
  unsignedHash: boolean;
  /** large_dir: three levels allowed. */
  largeDir: boolean;
  /** Per-inode checksum seed when metadata_csum is on. */
  csumSeed: number | undefined;
  report(message: string, offset: number): void;
}

const DX_BLOCK_MASK = 0x0fffffff;
const ZERO4 = new Uint8Array(4);

interface NodeInfo {
  referenced: number;
  first: boolean;
  last: boolean;
  nodeMin: number;
  nodeMax: number;
  interior: boolean;
}

/**
 * Checks the index of directory `input.ino`; problems go to `report`.
 * Returns the logical blocks that are index nodes (they hold no entries).
 */
export async function checkHtree(input: HtreeInput): Promise<Set<number>> {
  const { blocks, blockSize: bs, ino } = input;
  const interior = new Set<number>([0]);
  const rootPhys = blocks[0] ?? -1;
  const where = `Directory inode ${ino}'s hash index`;
  if (rootPhys < 0) {
    input.report(`${where}: its first block is a hole`, 0);
    return interior;
  }
  const root = await input.readBlock(rootPhys);
  const rv = new DataView(root.buffer, root.byteOffset, root.byteLength);
  const base = rootPhys * bs;
  const reservedZero = rv.getUint32(24, true);
  const hashVersion = root[28] ?? 0;
  const infoLength = root[29] ?? 0;
  const levels = root[30] ?? 0;
  const flags = root[31] ?? 0;
  const maxLevels = input.largeDir ? 3 : 2;
  if (reservedZero !== 0 || infoLength < 8 || levels >= maxLevels) {
    input.report(
      `${where}: the root is invalid (reserved ${reservedZero}, info length ${infoLength}, ${levels} indirect levels)`,
      base + 24,
    );
    return interior;
  }
  if (hashVersion > 5) {
    input.report(`${where}: hash version ${hashVersion} is not supported`, base + 28);
    return interior;
  }
  if (flags & 1) {
    input.report(`${where}: the root has incompatible flags 0x${flags.toString(16)}`, base + 31);
    return interior;
  }
  let problems = 0;
  const bad = (message: string, offset: number) => {
    problems++;
    input.report(`${where}: ${message}`, offset);
  };
  const info = new Map<number, NodeInfo>();
  const csumSize = input.csumSeed === undefined ? 0 : 8;
  /** Parses an index node at logical block `logical`; returns the children. */
  const parseNode = async (
    logical: number,
    bytes: Uint8Array,
    entriesAt: number,
  ): Promise<{ block: number; min: number; max: number; first: boolean; last: boolean }[]> => {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const at = (blocks[logical] as number) * bs;
    const limit = v.getUint16(entriesAt, true);
    let count = v.getUint16(entriesAt + 2, true);
    const expect = Math.floor((bs - (csumSize + entriesAt)) / 8);
    if (input.csumSeed !== undefined && entriesAt + limit * 8 + 8 <= bs) {
      const tail = entriesAt + limit * 8;
      const size = entriesAt + Math.min(count, limit) * 8;
      let crc = crc32c(input.csumSeed, bytes.subarray(0, size));
      crc = crc32c(crc, bytes.subarray(tail, tail + 4));
      crc = crc32c(crc, ZERO4);
      if (crc !== v.getUint32(tail + 4, true))
        bad(`block ${logical} fails its checksum`, at + tail + 4);
    }
    if (limit !== expect)
      bad(`block ${logical} has limit ${limit}, expected ${expect}`, at + entriesAt);
    if (count > expect) {
      bad(`block ${logical} has count ${count}, over its limit ${expect}`, at + entriesAt + 2);
      count = expect;
    }
    const out: { block: number; min: number; max: number; first: boolean; last: boolean }[] = [];
    let previous = 0;
    for (let i = 0; i < count; i++) {
      const hash = i ? v.getUint32(entriesAt + i * 8, true) & ~1 : 0;
      const block = v.getUint32(entriesAt + i * 8 + 4, true) & DX_BLOCK_MASK;
      if (block >= blocks.length) {
        bad(
          `block ${logical} points to block ${block}, past the directory's end`,
          at + entriesAt + i * 8 + 4,
        );
        continue;
      }
      if (hash >>> 0 < previous >>> 0)
        bad(`block ${logical} has an unordered hash table`, at + entriesAt + i * 8);
      previous = hash;
      const next = i + 1 < count ? v.getUint32(entriesAt + (i + 1) * 8, true) & ~1 : 0xfffffffe;
      out.push({ block, min: hash >>> 0, max: next >>> 0, first: i === 0, last: i + 1 === count });
    }
    return out;
  };
  const mark = (
    child: { block: number; min: number; max: number; first: boolean; last: boolean },
    isInterior: boolean,
  ) => {
    const known = info.get(child.block);
    if (known) {
      known.referenced++;
      return;
    }
    info.set(child.block, {
      referenced: 1,
      first: child.first,
      last: child.last,
      nodeMin: child.min,
      nodeMax: child.max,
      interior: isInterior,
    });
  };
  const top = await parseNode(0, root, 24 + infoLength);
  if (problems > 0) return interior;
  for (const child of top) {
    mark(child, levels > 0);
    if (levels === 0) continue;
    interior.add(child.block);
    const phys = blocks[child.block] ?? -1;
    if (phys < 0 || child.block === 0) continue;
    const node = await input.readBlock(phys);
    const kids = await parseNode(child.block, node, 8);
    for (const kid of kids) {
      if (kid.last) kid.max = child.max;
      if (kid.first && !child.first) kid.first = false;
      mark(kid, levels > 1);
      if (levels > 1) interior.add(kid.block);
    }
  }
  if (levels > 1) return interior; // Three-level trees: structure only.
  // Leaves: their names' hashes lie within what the index gives them.
  const hashable = hashVersion === 1 || hashVersion === 4;
  const signed = hashVersion === 1 && !input.unsignedHash;
  for (let b = 1; b < blocks.length; b++) {
    const node = info.get(b);
    const at = Math.max(0, blocks[b] ?? 0) * bs;
    if (!node) {
      bad(`block ${b} is not referenced`, at);
      continue;
    }
    if (node.referenced > 1) bad(`block ${b} is referenced ${node.referenced} times`, at);
    if (node.interior || !hashable || (blocks[b] ?? -1) < 0) continue;
    const leaf = await input.readBlock(blocks[b] as number);
    const parsed = parseDirBlock(leaf, at, input.hasFileType);
    let min = 0xffffffff;
    let max = 0;
    for (const entry of parsed.entries) {
      if (entry.name === "." || entry.name === "..") continue;
      // The bytes on disk, whatever they decode to.
      const start = entry.offset - at + 8;
      const raw = leaf.subarray(start, start + entry.nameLength);
      const hash = halfMd4Hash(raw, input.hashSeed, signed);
      if (hash < min) min = hash;
      if (hash > max) max = hash;
    }
    if (!node.first && min < node.nodeMin) bad(`block ${b} has bad min hash`, at);
    if (max > node.nodeMax) bad(`block ${b} has bad max hash`, at);
  }
  return interior;
}

/**
 * Checks a directory leaf block's checksum tail (metadata_csum): the fake
 * entry in its last 12 bytes and the CRC over the rest.
 */
export function leafChecksumProblem(bytes: Uint8Array, csumSeed: number): string | undefined {
  const n = bytes.length;
  const v = new DataView(bytes.buffer, bytes.byteOffset, n);
  const tailOk =
    v.getUint32(n - 12, true) === 0 &&
    v.getUint16(n - 8, true) === 12 &&
    bytes[n - 6] === 0 &&
    bytes[n - 5] === 0xde;
  if (!tailOk) return "has no checksum tail";
  if (crc32c(csumSeed, bytes.subarray(0, n - 12)) !== v.getUint32(n - 4, true))
    return "fails its checksum";
  return undefined;
}
