import { viewOf } from "./_bytes.ts";
import { EXT_ATTR_MAGIC } from "./constants.ts";
import { ExtFormatError } from "./errors.ts";

/** The header of an extended-attribute block (32 bytes). */
export interface ExtAttrHeader {
  magic: number;
  refcount: number;
  blocks: number;
  hash: number;
  checksum: number;
}

/** One extended attribute entry (`ext2_ext_attr_entry`, 16 bytes + name). */
export interface ExtAttrEntry {
  nameIndex: number;
  valueOffs: number;
  valueInum: number;
  valueSize: number;
  hash: number;
  name: Uint8Array;
}

/** Decodes an EA block header. @throws {ExtFormatError} on a bad magic. */
export function decodeExtAttrHeader(bytes: Uint8Array): ExtAttrHeader {
  const v = viewOf(bytes);
  const magic = v.getUint32(0, true);
  if (magic !== EXT_ATTR_MAGIC) {
    throw new ExtFormatError(
      `Cannot parse extended attribute block: magic is 0x${magic.toString(16)}`,
      0,
    );
  }
  return {
    magic,
    refcount: v.getUint32(4, true),
    blocks: v.getUint32(8, true),
    hash: v.getUint32(12, true),
    checksum: v.getUint32(16, true),
  };
}

/** Encodes an EA block header into 32 bytes (or over `into`). */
export function encodeExtAttrHeader(header: ExtAttrHeader, into?: Uint8Array): Uint8Array {
  const bytes = into ?? new Uint8Array(32);
  const v = viewOf(bytes);
  v.setUint32(0, header.magic >>> 0, true);
  v.setUint32(4, header.refcount, true);
  v.setUint32(8, header.blocks, true);
  v.setUint32(12, header.hash >>> 0, true);
  v.setUint32(16, header.checksum >>> 0, true);
  return bytes;
}

/**
 * Decodes the entries that start at `offset` (32 in a block, 4 after the
 * in-inode magic), stopping at the 4 zero bytes that end the list.
 */
export function decodeExtAttrEntries(bytes: Uint8Array, offset: number): ExtAttrEntry[] {
  const v = viewOf(bytes);
  const out: ExtAttrEntry[] = [];
  let at = offset;
  while (at + 4 <= bytes.length && v.getUint32(at, true) !== 0) {
    if (at + 16 > bytes.length)
      throw new ExtFormatError("Cannot parse extended attribute entry: truncated", at);
    const nameLen = bytes[at] ?? 0;
    out.push({
      nameIndex: bytes[at + 1] ?? 0,
      valueOffs: v.getUint16(at + 2, true),
      valueInum: v.getUint32(at + 4, true),
      valueSize: v.getUint32(at + 8, true),
      hash: v.getUint32(at + 12, true),
      name: bytes.subarray(at + 16, at + 16 + nameLen),
    });
    at += (16 + nameLen + 3) & ~3;
  }
  return out;
}
