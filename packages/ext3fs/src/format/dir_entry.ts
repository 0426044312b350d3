import { viewOf } from "./_bytes.ts";
import { ExtFormatError } from "./errors.ts";

/** A directory entry (`ext2_dir_entry_2`). */
export interface DirEntry {
  /** Inode number; 0 marks an unused entry. */
  inode: number;
  /** Length of this record (to the next entry), a multiple of 4. */
  recLen: number;
  /** Entry type (see `DirFileType`); 0 without the filetype feature. */
  fileType: number;
  /** Raw name bytes (not NUL-terminated). */
  name: Uint8Array;
}

/** Bytes a directory entry with a name of `nameLength` bytes needs: `(8 + n + 3) & ~3`. */
export function dirEntrySize(nameLength: number): number {
  return (8 + nameLength + 3) & ~3;
}

/**
 * Decodes the entry at `offset` in a directory block. With `filetype` false
 * (no filetype feature), the name length is 16 bits and `fileType` is 0.
 *
 * @throws {ExtFormatError} on a record length that is too small, unaligned or
 * crosses the end of the block.
 */
export function decodeDirEntry(block: Uint8Array, offset: number, filetype = true): DirEntry {
  if (offset + 8 > block.length) {
    throw new ExtFormatError(`Cannot parse directory entry: header crosses the block end`, offset);
  }
  const v = viewOf(block);
  const inode = v.getUint32(offset, true);
  const recLen = v.getUint16(offset + 4, true);
  const nameLen = filetype ? (block[offset + 6] ?? 0) : v.getUint16(offset + 6, true);
  const fileType = filetype ? (block[offset + 7] ?? 0) : 0;
  if (recLen < 8 || recLen % 4 !== 0 || offset + recLen > block.length || 8 + nameLen > recLen) {
    throw new ExtFormatError(
      `Cannot parse directory entry: record length ${recLen} is invalid`,
      offset + 4,
    );
  }
  return { inode, recLen, fileType, name: block.subarray(offset + 8, offset + 8 + nameLen) };
}

/** Every entry of a directory block in order, including unused ones (inode 0). */
export function decodeDirBlock(block: Uint8Array, filetype = true): DirEntry[] {
  const out: DirEntry[] = [];
  for (let offset = 0; offset < block.length; ) {
    const entry = decodeDirEntry(block, offset, filetype);
    out.push(entry);
    offset += entry.recLen;
  }
  return out;
}

/**
 * Writes one directory entry at `offset` in `block`, returning the offset after
 * its record. The name must be at most 255 bytes.
 */
export function encodeDirEntry(block: Uint8Array, offset: number, entry: DirEntry): number {
  const v = viewOf(block);
  v.setUint32(offset, entry.inode, true);
  v.setUint16(offset + 4, entry.recLen, true);
  block[offset + 6] = entry.name.length;
  block[offset + 7] = entry.fileType;
  block.set(entry.name, offset + 8);
  return offset + entry.recLen;
}
