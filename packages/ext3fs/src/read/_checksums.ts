// metadata_csum checks: superblock, group descriptors, bitmaps and inodes (CRC-32C).
import { inodeChecksum } from "../format/_checksums.ts";
import { crc32c } from "../format/_crc32c.ts";
import type { ReaderGroup } from "./_decode_group.ts";
import type { ReaderSuperblock } from "./_decode_superblock.ts";

/** The checksum seed: from the superblock (metadata_csum_seed) or the UUID. */
export function checksumSeed(sb: ReaderSuperblock): number {
  return sb.featureIncompat & 0x2000 ? sb.checksumSeed : crc32c(0xffffffff, sb.uuid);
}

/** Whether the superblock's own checksum is right. */
export function superblockChecksumOk(raw: Uint8Array, sb: ReaderSuperblock): boolean {
  return crc32c(0xffffffff, raw.subarray(0, 1020)) === sb.checksum;
}

export { groupChecksum } from "../format/_checksums.ts";

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
  const { crc, hasHi } = inodeChecksum(seed, ino, raw);
  const lo = v.getUint16(0x7c, true);
  if (!hasHi) return (crc & 0xffff) === lo;
  return crc === ((v.getUint16(0x82, true) << 16) | lo) >>> 0;
}

/** Whether group descriptors carry 32-bit bitmap checksums. */
export function wideBitmapChecksums(sb: ReaderSuperblock): boolean {
  return (sb.featureIncompat & 0x80) !== 0 && sb.descSize >= 64;
}

export type { ReaderGroup };
