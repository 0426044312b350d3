// VHD footer and dynamic header fields (Microsoft's "Virtual Hard Disk Image Format
// Specification", 2006): big-endian, one's complement checksums.
import { setU64, viewOf } from "./_bytes.ts";

export const FOOTER_COOKIE = "conectix";
export const DYNAMIC_COOKIE = "cxsparse";
export const DISK_TYPE_FIXED = 2;
export const DISK_TYPE_DYNAMIC = 3;
export const DISK_TYPE_DIFFERENCING = 4;
/** Seconds from the Unix epoch to 2000-01-01 00:00:00 UTC, the VHD epoch. */
export const VHD_EPOCH = 946684800;
export const UNUSED_BAT_ENTRY = 0xffffffff;
export const DEFAULT_BLOCK_SIZE = 2 << 20;
/** The largest disk the format can describe (2040 GiB, as Hyper-V states). */
export const MAX_VHD_SIZE = 2040 * 2 ** 30;

/** The sum-of-bytes checksum, one's complement, skipping the 4 bytes at `skip`. */
export function vhdChecksum(bytes: Uint8Array, skip: number): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) if (i < skip || i >= skip + 4) sum += bytes[i] as number;
  return ~sum >>> 0;
}

/** Cylinders, heads and sectors per track for a disk size, as the spec's appendix computes them. */
export function vhdGeometry(size: number): { cylinders: number; heads: number; sectors: number } {
  let total = Math.floor(size / 512);
  if (total > 65535 * 16 * 255) total = 65535 * 16 * 255;
  let sectors: number;
  let heads: number;
  let cylinderTimesHeads: number;
  if (total >= 65535 * 16 * 63) {
    sectors = 255;
    heads = 16;
    cylinderTimesHeads = Math.floor(total / sectors);
  } else {
    sectors = 17;
    cylinderTimesHeads = Math.floor(total / sectors);
    heads = Math.max(4, Math.floor((cylinderTimesHeads + 1023) / 1024));
    if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
      sectors = 31;
      heads = 16;
      cylinderTimesHeads = Math.floor(total / sectors);
    }
    if (cylinderTimesHeads >= heads * 1024) {
      sectors = 63;
      heads = 16;
      cylinderTimesHeads = Math.floor(total / sectors);
    }
  }
  return { cylinders: Math.floor(cylinderTimesHeads / heads), heads, sectors };
}

/** Fields of a footer to build. */
export interface FooterFields {
  size: number;
  diskType: number;
  dataOffset: number;
  timestamp: number;
  uuid: Uint8Array;
  creatorApp: string;
}

/** A 512-byte VHD footer. */
export function buildFooter(fields: FooterFields): Uint8Array {
  const footer = new Uint8Array(512);
  const v = viewOf(footer);
  footer.set(new TextEncoder().encode(FOOTER_COOKIE), 0);
  v.setUint32(8, 2); // features: reserved bit always set
  v.setUint32(12, 0x00010000); // file format version 1.0
  if (fields.dataOffset < 0) v.setBigUint64(16, 0xffffffffffffffffn);
  else setU64(v, 16, fields.dataOffset);
  v.setUint32(24, fields.timestamp >>> 0);
  footer.set(new TextEncoder().encode(fields.creatorApp.padEnd(4, " ").slice(0, 4)), 28);
  v.setUint32(32, 0x00010000); // creator version
  v.setUint32(36, 0x5769326b); // creator host OS: "Wi2k"
  setU64(v, 40, fields.size); // original size
  setU64(v, 48, fields.size); // current size
  const g = vhdGeometry(fields.size);
  v.setUint16(56, g.cylinders);
  v.setUint8(58, g.heads);
  v.setUint8(59, g.sectors);
  v.setUint32(60, fields.diskType);
  footer.set(fields.uuid.subarray(0, 16), 68);
  v.setUint32(64, vhdChecksum(footer, 64));
  return footer;
}

/** A 1024-byte dynamic disk header. */
export function buildDynamicHeader(
  tableOffset: number,
  entries: number,
  blockSize: number,
): Uint8Array {
  const header = new Uint8Array(1024);
  const v = viewOf(header);
  header.set(new TextEncoder().encode(DYNAMIC_COOKIE), 0);
  v.setBigUint64(8, 0xffffffffffffffffn); // data offset: unused
  setU64(v, 16, tableOffset);
  v.setUint32(24, 0x00010000);
  v.setUint32(28, entries);
  v.setUint32(32, blockSize);
  v.setUint32(36, vhdChecksum(header, 36));
  return header;
}
