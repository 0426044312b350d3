/**
 * Extended attributes as the writer stores them: names split into ext4's
 * prefix index and suffix (POSIX ACLs converted to ext4's compact form), and
 * laid out in the inode after `i_extra_isize` when they fit, else in one
 * attribute block of the object's own.
 */
import {
  extAttrBlockChecksum,
  extAttrBlockHash,
  extAttrEntryHash,
} from "../format/_ext_attr_hash.ts";
import { EXT_ATTR_MAGIC } from "../format/constants.ts";

/** An attribute ready to store: prefix index, name suffix, value (as on disk). */
export interface StoredXattr {
  index: number;
  name: Uint8Array;
  value: Uint8Array;
}

/** Prefixes by index, longest match first; the ACL names are whole names. */
const PREFIXES: readonly [string, number][] = [
  ["system.posix_acl_access", 2],
  ["system.posix_acl_default", 3],
  ["user.", 1],
  ["trusted.", 4],
  ["security.", 6],
];

const ENCODER = new TextEncoder();

/**
 * An attribute as stored, or why it cannot be (a name with no ext4 prefix
 * index, an ACL that is not the kernel's version 2 form).
 */
export function storedXattr(name: string, value: Uint8Array): StoredXattr | string {
  for (const [prefix, index] of PREFIXES) {
    if (!name.startsWith(prefix)) continue;
    const suffix = ENCODER.encode(name.slice(prefix.length));
    if (index === 2 || index === 3) {
      if (suffix.length > 0) break;
      const acl = compactAcl(value);
      return typeof acl === "string" ? `${name}: ${acl}` : { index, name: suffix, value: acl };
    }
    if (suffix.length === 0 || suffix.length > 255) break;
    return { index, name: suffix, value };
  }
  return `${name}: ext2/3/4 has no place for this name`;
}

/**
 * The kernel's ACL xattr (version 2: 8-byte entries of tag, perm, id) in
 * ext4's form (version 1: the owner, group, mask and other entries without
 * an id, 4 bytes; named users and groups 8).
 */
function compactAcl(value: Uint8Array): Uint8Array | string {
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (value.length < 4 || (value.length - 4) % 8 !== 0 || v.getUint32(0, true) !== 2)
    return "not a version 2 POSIX ACL";
  const count = (value.length - 4) / 8;
  const out = new Uint8Array(4 + count * 8);
  const w = new DataView(out.buffer);
  w.setUint32(0, 1, true);
  let at = 4;
  for (let i = 0; i < count; i++) {
    const tag = v.getUint16(4 + i * 8, true);
    w.setUint16(at, tag, true);
    w.setUint16(at + 2, v.getUint16(6 + i * 8, true), true);
    if (tag === 0x02 || tag === 0x08) {
      w.setUint32(at + 4, v.getUint32(8 + i * 8, true), true);
      at += 8;
    } else if (tag === 0x01 || tag === 0x04 || tag === 0x10 || tag === 0x20) at += 4;
    else return `unknown ACL tag 0x${tag.toString(16)}`;
  }
  return out.slice(0, at);
}

/** Order in a block (the kernel searches it sorted): index, name length, name bytes. */
export function compareXattrs(a: StoredXattr, b: StoredXattr): number {
  if (a.index !== b.index) return a.index - b.index;
  if (a.name.length !== b.name.length) return a.name.length - b.name.length;
  for (let i = 0; i < a.name.length; i++)
    if (a.name[i] !== b.name[i]) return (a.name[i] as number) - (b.name[i] as number);
  return 0;
}

const entrySize = (x: StoredXattr) => (16 + x.name.length + 3) & ~3;
const valueSize = (x: StoredXattr) => (x.value.length + 3) & ~3;

/** Bytes past the 128-byte core where in-inode attributes start (this writer's i_extra_isize). */
export const IN_INODE_START = 128 + 32;

/**
 * How a set splits, as e2fsprogs places attributes: each (in block order)
 * goes in the inode if it still fits there, else in the block; both parts
 * keep the order.
 */
export function splitXattrs(
  xattrs: readonly StoredXattr[],
  inodeSize: number,
): { inode: StoredXattr[]; block: StoredXattr[] } {
  // The magic, then entries and a 4-byte end, values from the end down.
  let room = inodeSize > 128 ? inodeSize - IN_INODE_START - 4 - 4 : -1;
  const inode: StoredXattr[] = [];
  const block: StoredXattr[] = [];
  for (const x of xattrs) {
    const need = entrySize(x) + valueSize(x);
    if (need <= room) {
      room -= need;
      inode.push(x);
    } else block.push(x);
  }
  return { inode, block };
}

/** Bytes a block needs for `xattrs` (header, entries, end marker, values). */
export function xattrBlockBytes(xattrs: readonly StoredXattr[]): number {
  let bytes = 32 + 4;
  for (const x of xattrs) bytes += entrySize(x) + valueSize(x);
  return bytes;
}

/** Whether a set needs an attribute block in inodes of `inodeSize` bytes. */
export function needsXattrBlock(
  xattrs: readonly StoredXattr[] | undefined,
  inodeSize: number,
): boolean {
  return xattrs !== undefined && splitXattrs(xattrs, inodeSize).block.length > 0;
}

/** Writes entries from `entryAt` and values down from `end`; offsets relative to `base`. Returns the entries' hashes. */
function writeEntries(
  bytes: Uint8Array,
  xattrs: readonly StoredXattr[],
  entryAt: number,
  end: number,
  base: number,
): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hashes: number[] = [];
  let at = entryAt;
  let valueAt = end;
  for (const x of xattrs) {
    valueAt -= valueSize(x);
    bytes.set(x.value, valueAt);
    const hash = extAttrEntryHash(x.name, x.value);
    bytes[at] = x.name.length;
    bytes[at + 1] = x.index;
    v.setUint16(at + 2, x.value.length ? valueAt - base : 0, true);
    v.setUint32(at + 4, 0, true);
    v.setUint32(at + 8, x.value.length, true);
    v.setUint32(at + 12, hash, true);
    bytes.set(x.name, at + 16);
    hashes.push(hash);
    at += entrySize(x);
  }
  return hashes;
}

/** Writes the in-inode part of `xattrs` (sorted) into an encoded inode (before its checksum). */
export function writeInodeXattrs(raw: Uint8Array, xattrs: readonly StoredXattr[]): void {
  const { inode } = splitXattrs(xattrs, raw.length);
  if (inode.length === 0) return;
  new DataView(raw.buffer, raw.byteOffset, raw.byteLength).setUint32(
    IN_INODE_START,
    EXT_ATTR_MAGIC,
    true,
  );
  const first = IN_INODE_START + 4;
  writeEntries(raw, inode, first, raw.length, first);
}

/**
 * The attribute block of `xattrs` (sorted; the part that does not fit the
 * inode), at block `blockNumber`: header (refcount 1, hash, and with a
 * checksum seed its checksum), entries, values at the end.
 */
export function xattrBlock(
  xattrs: readonly StoredXattr[],
  inodeSize: number,
  blockSize: number,
  blockNumber: number,
  csumSeed: number | undefined,
): Uint8Array {
  const inBlock = splitXattrs(xattrs, inodeSize).block;
  const block = new Uint8Array(blockSize);
  const v = new DataView(block.buffer);
  v.setUint32(0, EXT_ATTR_MAGIC, true);
  v.setUint32(4, 1, true);
  v.setUint32(8, 1, true);
  const hashes = writeEntries(block, inBlock, 32, blockSize, 0);
  v.setUint32(12, extAttrBlockHash(hashes), true);
  if (csumSeed !== undefined)
    v.setUint32(16, extAttrBlockChecksum(csumSeed, blockNumber, block), true);
  return block;
}

/**
 * A source object's attributes (full names to values) as stored, in block
 * order; those ext2/3/4 cannot store (or all, without ext_attr) are left out
 * with one note naming the object (`where`).
 */
export function storableXattrs(
  records: Record<string, Uint8Array>,
  own: { xattrs?: boolean; note?: (message: string) => void },
  where: string,
): StoredXattr[] {
  const names = Object.keys(records);
  if (names.length === 0) return [];
  if (own.xattrs === false) {
    own.note?.(`Not storing the extended attributes of ${where}: the filesystem has no ext_attr`);
    return [];
  }
  const out: StoredXattr[] = [];
  const skipped: string[] = [];
  for (const name of names) {
    const stored = storedXattr(name, records[name] as Uint8Array);
    if (typeof stored === "string") skipped.push(stored);
    else out.push(stored);
  }
  if (skipped.length > 0)
    own.note?.(`Not storing an extended attribute of ${where}: ${skipped.join("; ")}`);
  return out.sort(compareXattrs);
}
