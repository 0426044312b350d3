/**
 * The hashes and checksum of extended attributes, as e2fsprogs and the
 * kernel compute them: an entry's hash over its name and padded value, a
 * block's hash over its entries' hashes, and (metadata_csum) a block's
 * CRC-32C over its number and its bytes.
 */
import { crc32c } from "./_crc32c.ts";

/**
 * The hash of an entry: its name's bytes as signed chars (as x86 kernels and
 * e2fsprogs before 1.47 read them; newer ones accept this form too), then
 * the value as little-endian words, its last word zero-padded.
 */
export function extAttrEntryHash(name: Uint8Array, value: Uint8Array): number {
  let hash = 0;
  for (const byte of name) hash = ((hash << 5) ^ (hash >>> 27) ^ ((byte << 24) >> 24)) >>> 0;
  for (let at = 0; at < value.length; at += 4) {
    const word =
      ((value[at] ?? 0) |
        ((value[at + 1] ?? 0) << 8) |
        ((value[at + 2] ?? 0) << 16) |
        ((value[at + 3] ?? 0) << 24)) >>>
      0;
    hash = ((hash << 16) ^ (hash >>> 16) ^ word) >>> 0;
  }
  return hash;
}

/** The hash of a block from its entries' hashes in order (0 if any is 0). */
export function extAttrBlockHash(entryHashes: readonly number[]): number {
  let hash = 0;
  for (const h of entryHashes) {
    if (h === 0) return 0;
    hash = ((hash << 16) ^ (hash >>> 16) ^ h) >>> 0;
  }
  return hash;
}

/** metadata_csum's checksum of the attribute block at `blockNumber` (its checksum field, bytes 16-19, taken as zero). */
export function extAttrBlockChecksum(seed: number, blockNumber: number, block: Uint8Array): number {
  const number = new Uint8Array(8);
  const v = new DataView(number.buffer);
  v.setUint32(0, blockNumber % 2 ** 32, true);
  v.setUint32(4, Math.floor(blockNumber / 2 ** 32), true);
  let crc = crc32c(seed, number);
  crc = crc32c(crc, block.subarray(0, 16));
  crc = crc32c(crc, new Uint8Array(4));
  crc = crc32c(crc, block.subarray(20));
  return crc >>> 0;
}
