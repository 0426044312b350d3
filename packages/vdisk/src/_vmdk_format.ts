// VMDK sparse extent header, markers and descriptor (VMware's "Virtual Disk Format 1.1"):
// little-endian, sizes and offsets in 512-byte sectors.
import { setU64, viewOf } from "./_bytes.ts";

export const VMDK_MAGIC = 0x564d444b; // "KDMV"
export const FLAG_NEWLINE_TEST = 1;
export const FLAG_REDUNDANT_GT = 2;
export const FLAG_ZERO_GTE = 4;
export const FLAG_COMPRESSED = 1 << 16;
export const FLAG_MARKERS = 1 << 17;
export const KNOWN_FLAGS =
  FLAG_NEWLINE_TEST | FLAG_REDUNDANT_GT | FLAG_ZERO_GTE | FLAG_COMPRESSED | FLAG_MARKERS;
export const GD_AT_END = 0xffffffffffffffffn;
export const MARKER_EOS = 0;
export const MARKER_GT = 1;
export const MARKER_GD = 2;
export const MARKER_FOOTER = 3;
export const GRAIN_SECTORS = 128; // 64 KiB grains
export const GTES_PER_GT = 512;
export const DESCRIPTOR_SECTORS = 20;

/** Fields of a sparse extent header to build. */
export interface HeaderFields {
  version: number;
  flags: number;
  capacity: number;
  descriptorSectors: number;
  gdOffset: bigint;
  overhead: number;
  compress: boolean;
}

/** A 512-byte sparse extent header. */
export function buildHeader(fields: HeaderFields): Uint8Array {
  const header = new Uint8Array(512);
  const v = viewOf(header);
  v.setUint32(0, VMDK_MAGIC, true);
  v.setUint32(4, fields.version, true);
  v.setUint32(8, fields.flags, true);
  setU64(v, 12, fields.capacity, true);
  setU64(v, 20, GRAIN_SECTORS, true);
  setU64(v, 28, fields.descriptorSectors > 0 ? 1 : 0, true);
  setU64(v, 36, fields.descriptorSectors, true);
  v.setUint32(44, GTES_PER_GT, true);
  setU64(v, 48, 0, true); // no redundant grain directory
  v.setBigUint64(56, fields.gdOffset, true);
  setU64(v, 64, fields.overhead, true);
  header[72] = 0; // clean shutdown
  header[73] = 0x0a;
  header[74] = 0x20;
  header[75] = 0x0d;
  header[76] = 0x0a;
  v.setUint16(77, fields.compress ? 1 : 0, true);
  return header;
}

/** A metadata marker sector (grain table, grain directory, footer, end of stream). */
export function markerSector(type: number, sectors: number): Uint8Array {
  const sector = new Uint8Array(512);
  const v = viewOf(sector);
  setU64(v, 0, sectors, true);
  v.setUint32(12, type, true);
  return sector;
}

/** The embedded descriptor text, padded with zeros to `sectors` sectors. */
export function buildDescriptor(
  capacity: number,
  createType: string,
  extentName: string,
  cid: number,
  sectors: number,
): Uint8Array {
  const cylinders = Math.min(16383, Math.floor(capacity / (16 * 63)));
  const text = [
    "# Disk DescriptorFile",
    "version=1",
    `CID=${cid.toString(16).padStart(8, "0")}`,
    "parentCID=ffffffff",
    `createType="${createType}"`,
    "",
    "# Extent description",
    `RW ${capacity} SPARSE "${extentName.replace(/"/g, "")}"`,
    "",
    "# The Disk Data Base",
    "#DDB",
    "",
    'ddb.virtualHWVersion = "4"',
    `ddb.geometry.cylinders = "${cylinders}"`,
    'ddb.geometry.heads = "16"',
    'ddb.geometry.sectors = "63"',
    'ddb.adapterType = "ide"',
    "",
  ].join("\n");
  const bytes = new Uint8Array(sectors * 512);
  bytes.set(new TextEncoder().encode(text).subarray(0, bytes.length));
  return bytes;
}
