/**
 * metadata_csum's CRC-32C checksums, computed: the reader verifies with
 * these and the writer stores them. The seed of a filesystem is
 * crc32c(~0, uuid) (or the superblock's, with metadata_csum_seed); an
 * inode's structures (extent blocks, directory blocks) are seeded with
 * crc32c(seed, ino, generation).
 */
import { crc32c, le32 } from "./_crc32c.ts";

const ZERO2 = new Uint8Array(2);
const ZERO4 = new Uint8Array(4);

/** The filesystem's checksum seed from its UUID. */
export function uuidChecksumSeed(uuid: Uint8Array): number {
  return crc32c(0xffffffff, uuid);
}

/** The superblock's checksum: over its first 1020 bytes. */
export function superblockChecksum(raw: Uint8Array): number {
  return crc32c(0xffffffff, raw.subarray(0, 1020));
}

/** The 16-bit checksum of group `g`'s descriptor bytes (its own checksum field left out). */
export function groupChecksum(seed: number, g: number, desc: Uint8Array): number {
  let crc = crc32c(seed, le32(g));
  crc = crc32c(crc, desc.subarray(0, 30));
  crc = crc32c(crc, ZERO2);
  if (desc.length > 32) crc = crc32c(crc, desc.subarray(32));
  return crc & 0xffff;
}

/** The seed of inode `ino`'s own structures. */
export function inodeChecksumSeed(seed: number, ino: number, generation: number): number {
  return crc32c(crc32c(seed, le32(ino)), le32(generation));
}

/**
 * An inode's checksum over its `raw` bytes (checksum fields left out): the
 * low 16 bits go to `l_i_checksum_lo`, the high ones to `i_checksum_hi` when
 * the inode has room for it (`hasHi`).
 */
export function inodeChecksum(
  seed: number,
  ino: number,
  raw: Uint8Array,
): { crc: number; hasHi: boolean } {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let crc = inodeChecksumSeed(seed, ino, v.getUint32(100, true));
  crc = crc32c(crc, raw.subarray(0, 0x7c));
  crc = crc32c(crc, ZERO2);
  crc = crc32c(crc, raw.subarray(0x7e, 128));
  let hasHi = false;
  if (raw.length > 128) {
    hasHi = 128 + v.getUint16(128, true) >= 0x84;
    crc = crc32c(crc, raw.subarray(128, 0x82));
    if (hasHi) {
      crc = crc32c(crc, ZERO2);
      crc = crc32c(crc, raw.subarray(0x84));
    } else crc = crc32c(crc, raw.subarray(0x82));
  }
  return { crc: crc >>> 0, hasHi };
}

/** Stores inode `ino`'s checksum into its encoded bytes. */
export function setInodeChecksum(seed: number, ino: number, raw: Uint8Array): void {
  const { crc, hasHi } = inodeChecksum(seed, ino, raw);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  v.setUint16(0x7c, crc & 0xffff, true);
  if (hasHi) v.setUint16(0x82, crc >>> 16, true);
}

/** The checksum of a directory leaf block: over all but its 12-byte tail. */
export function dirLeafChecksum(inodeSeed: number, block: Uint8Array): number {
  return crc32c(inodeSeed, block.subarray(0, block.length - 12));
}

/**
 * The checksum of an htree root or node: over the block up to the end of its
 * `count` entries (from `countOffset`), then the tail's reserved word.
 */
export function dxNodeChecksum(
  inodeSeed: number,
  block: Uint8Array,
  countOffset: number,
  count: number,
): number {
  const crc = crc32c(inodeSeed, block.subarray(0, countOffset + count * 8));
  // The tail's reserved word (zero), then its checksum field as zero.
  return crc32c(crc32c(crc, ZERO4), ZERO4);
}

/** The checksum of an extent tree block: over the header and `max` entries. */
export function extentBlockChecksum(inodeSeed: number, block: Uint8Array, max: number): number {
  return crc32c(inodeSeed, block.subarray(0, 12 + 12 * max));
}
