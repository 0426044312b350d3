// metadata_csum checks: superblock, group descriptors, bitmaps and inodes (CRC-32C).
import { crc32c, le32 } from "./_crc32c.ts";
import type { ReaderGroup } from "./_decode_group.ts";
import type { ReaderSuperblock } from "./_decode_superblock.ts";

const ZERO2 = new Uint8Array(2);

/** The checksum seed: from the superblock (metadata_csum_seed) or the UUID. */
export function checksumSeed(sb: ReaderSuperblock): number {
  return sb.featureIncompat & 0x2000 ? sb.checksumSeed : crc32c(0xffffffff, sb.uuid);
}

/** Whether the superblock's own checksum is right. */
export function superblockChecksumOk(raw: Uint8Array, sb: ReaderSuperblock): boolean {
  return crc32c(0xffffffff, raw.subarray(0, 1020)) === sb.checksum;
}

/** The expected 16-bit checksum of group `g`'s descriptor bytes. */
export function groupChecksum(seed: number, g: number, desc: Uint8Array): number {
  let crc = crc32c(seed, le32(g));
  crc = crc32c(crc, desc.subarray(0, 30));
  crc = crc32c(crc, ZERO2);
  if (desc.length > 32) crc = crc32c(crc, desc.subarray(32));
  return crc & 0xffff;
}

/** Whether a bitmap's checksum matches the descriptor's (16 or 32 bits). */
export function bitmapChecksumOk(
  seed: number,
  bitmap: Uint8Array,
  bytes: number,
  stored: number,
  wide: boolean,
): boolean {
  const crc = crc32c(seed, bitmap.subarray(0, bytes));
  return wide ? crc === stored >>> 0 : (crc & 0xffff) === (stored & 0xffff);
}

/** Whether an inode's checksum (lo, and hi when the inode has room) matches. */
export function inodeChecksumOk(seed: number, ino: number, raw: Uint8Array): boolean {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const generation = v.getUint32(100, true);
  let crc = crc32c(crc32c(seed, le32(ino)), le32(generation));
  crc = crc32c(crc, raw.subarray(0, 0x7c));
  crc = crc32c(crc, ZERO2);
  crc = crc32c(crc, raw.subarray(0x7e, 128));
  let hasHi = false;
  if (raw.length > 128) {
    const extra = v.getUint16(128, true);
    hasHi = 128 + extra >= 0x84;
    crc = crc32c(crc, raw.subarray(128, 0x82));
    if (hasHi) {
      crc = crc32c(crc, ZERO2);
      crc = crc32c(crc, raw.subarray(0x84));
    } else {
      crc = crc32c(crc, raw.subarray(0x82));
    }
  }
  const lo = v.getUint16(0x7c, true);
  if (!hasHi) return (crc & 0xffff) === lo;
  return crc >>> 0 === ((v.getUint16(0x82, true) << 16) | lo) >>> 0;
}

/** Whether group descriptors carry 32-bit bitmap checksums. */
export function wideBitmapChecksums(sb: ReaderSuperblock): boolean {
  return (sb.featureIncompat & 0x80) !== 0 && sb.descSize >= 64;
}

export type { ReaderGroup };
