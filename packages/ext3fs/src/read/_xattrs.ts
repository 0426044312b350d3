import { decodeExtAttrEntries, type ExtAttrEntry } from "../format/mod.ts";
import type { ReaderInode } from "./_decode_inode.ts";
import { ExtCorruptionError, ExtUnsupportedError } from "./errors.ts";

const MAGIC = 0xea020000;
const PREFIX: Record<number, string> = {
  1: "user.",
  2: "system.posix_acl_access",
  3: "system.posix_acl_default",
  4: "trusted.",
  6: "security.",
  7: "system.",
  8: "system.richacl",
};

/** One extended attribute: its full name and value. */
export interface ReaderXattr {
  name: string;
  value: Uint8Array;
}

/** ext4's compact POSIX ACL (version 1) to the kernel's xattr form (version 2), as getfattr shows it. */
function aclToXattr(value: Uint8Array, offset: number): Uint8Array {
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (value.length < 4 || v.getUint32(0, true) !== 1)
    throw new ExtCorruptionError("Cannot read an ACL: its version is not 1", offset);
  const out: number[][] = [];
  let at = 4;
  while (at + 4 <= value.length) {
    const tag = v.getUint16(at, true);
    const perm = v.getUint16(at + 2, true);
    let id = 0xffffffff;
    if (tag === 2 || tag === 8) {
      if (at + 8 > value.length)
        throw new ExtCorruptionError("Cannot read an ACL: an entry is truncated", offset + at);
      id = v.getUint32(at + 4, true);
      at += 8;
    } else at += 4;
    out.push([tag, perm, id]);
  }
  const bytes = new Uint8Array(4 + 8 * out.length);
  const w = new DataView(bytes.buffer);
  w.setUint32(0, 2, true);
  out.forEach(([tag, perm, id], i) => {
    w.setUint16(4 + i * 8, tag as number, true);
    w.setUint16(6 + i * 8, perm as number, true);
    w.setUint32(8 + i * 8, id as number, true);
  });
  return bytes;
}

function collect(
  entries: ExtAttrEntry[],
  bytes: Uint8Array,
  valueBase: number,
  region: number,
  ino: number,
  out: ReaderXattr[],
): void {
  for (const entry of entries) {
    const prefix = PREFIX[entry.nameIndex];
    if (prefix === undefined) continue;
    if (entry.valueInum !== 0) {
      throw new ExtUnsupportedError(
        `Cannot read inode ${ino}'s extended attributes: a value lives in its own inode (ea_inode)`,
        region,
      );
    }
    const start = valueBase + entry.valueOffs;
    if (start + entry.valueSize > bytes.length) {
      throw new ExtCorruptionError(
        `Cannot read inode ${ino}'s extended attributes: a value lies outside its block`,
        region + start,
      );
    }
    const name = prefix + new TextDecoder().decode(entry.name);
    let value: Uint8Array = bytes.slice(start, start + entry.valueSize);
    if (entry.nameIndex === 2 || entry.nameIndex === 3) value = aclToXattr(value, region + start);
    out.push({ name, value });
  }
}

function entriesOf(bytes: Uint8Array, at: number, offset: number, ino: number): ExtAttrEntry[] {
  try {
    return decodeExtAttrEntries(bytes, at);
  } catch (error) {
    throw new ExtCorruptionError(
      `Cannot read inode ${ino}'s extended attributes: ${(error as Error).message}`,
      offset,
    );
  }
}

/**
 * The extended attributes of an inode: those stored in the inode after
 * `i_extra_isize`, then those of its attribute block. ACLs are given in the
 * kernel's xattr form.
 */
export async function readXattrs(
  inode: ReaderInode,
  raw: Uint8Array,
  blockSize: number,
  readBlock: (block: number) => Promise<Uint8Array>,
  blocksCount: number,
): Promise<ReaderXattr[]> {
  const out: ReaderXattr[] = [];
  const start = 128 + inode.extraIsize;
  if (raw.length > 128 && start + 4 <= raw.length) {
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (v.getUint32(start, true) === MAGIC) {
      const region = raw.subarray(start + 4);
      collect(
        entriesOf(region, 0, inode.offset + start + 4, inode.ino),
        region,
        0,
        inode.offset + start + 4,
        inode.ino,
        out,
      );
    }
  }
  if (inode.fileAcl !== 0) {
    if (inode.fileAcl >= blocksCount) {
      throw new ExtCorruptionError(
        `Cannot read inode ${inode.ino}'s extended attributes: block ${inode.fileAcl} is outside the filesystem`,
        inode.offset + 104,
      );
    }
    const block = await readBlock(inode.fileAcl);
    const v = new DataView(block.buffer, block.byteOffset, block.byteLength);
    if (v.getUint32(0, true) !== MAGIC) {
      throw new ExtCorruptionError(
        `Cannot read inode ${inode.ino}'s extended attributes: block ${inode.fileAcl} has no attribute magic`,
        inode.fileAcl * blockSize,
      );
    }
    collect(
      entriesOf(block, 32, inode.fileAcl * blockSize + 32, inode.ino),
      block,
      0,
      inode.fileAcl * blockSize,
      inode.ino,
      out,
    );
  }
  return out;
}

/**
 * The sizes of the values an inode keeps in their own inodes (ea_inode),
 * from its in-inode attributes and its attribute block; damaged attribute
 * areas count as none (the readers report them).
 */
export async function eaInodeValueSizes(
  inode: ReaderInode,
  raw: Uint8Array,
  readBlock: (block: number) => Promise<Uint8Array>,
  blocksCount: number,
): Promise<number[]> {
  const sizes: number[] = [];
  const take = (bytes: Uint8Array, at: number) => {
    try {
      for (const entry of decodeExtAttrEntries(bytes, at))
        if (entry.valueInum !== 0) sizes.push(entry.valueSize);
    } catch {
      // Damage is reported elsewhere.
    }
  };
  const start = 128 + inode.extraIsize;
  if (raw.length > 128 && start + 4 <= raw.length) {
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (v.getUint32(start, true) === MAGIC) take(raw.subarray(start + 4), 0);
  }
  if (inode.fileAcl !== 0 && inode.fileAcl < blocksCount) {
    const block = await readBlock(inode.fileAcl);
    const v = new DataView(block.buffer, block.byteOffset, block.byteLength);
    if (v.getUint32(0, true) === MAGIC) take(block, 32);
  }
  return sizes;
}

/**
 * The value of the in-inode `system.data` attribute: the part of an
 * inline_data file or directory that does not fit `i_block`. Empty when
 * there is none or the attribute area is damaged.
 */
export function inlineDataTail(inode: ReaderInode, raw: Uint8Array): Uint8Array {
  const start = 128 + inode.extraIsize;
  if (raw.length <= 128 || start + 4 > raw.length) return new Uint8Array(0);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (v.getUint32(start, true) !== MAGIC) return new Uint8Array(0);
  const region = raw.subarray(start + 4);
  try {
    for (const entry of decodeExtAttrEntries(region, 0)) {
      if (entry.nameIndex !== 7 || new TextDecoder().decode(entry.name) !== "data") continue;
      if (entry.valueInum !== 0 || entry.valueOffs + entry.valueSize > region.length) break;
      return region.subarray(entry.valueOffs, entry.valueOffs + entry.valueSize);
    }
  } catch {
    // Damage is reported elsewhere.
  }
  return new Uint8Array(0);
}
