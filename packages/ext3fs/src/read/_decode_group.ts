import type { ReaderSuperblock } from "./_decode_superblock.ts";
import { INCOMPAT_64BIT } from "./_features.ts";

/** Group descriptor flag: the inode table and bitmap are not initialized. */
export const BG_INODE_UNINIT = 0x1;
/** Group descriptor flag: the block bitmap is not initialized. */
export const BG_BLOCK_UNINIT = 0x2;

/** One block group descriptor. */
export interface ReaderGroup {
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
  freeBlocks: number;
  freeInodes: number;
  usedDirs: number;
  flags: number;
  itableUnused: number;
  checksum: number;
  /** Byte offset of the descriptor in the image. */
  offset: number;
}

/** Decodes the descriptor at `at` in `bytes` (32 or 64 bytes). */
export function decodeReaderGroup(
  bytes: Uint8Array,
  at: number,
  sb: ReaderSuperblock,
  offset: number,
): ReaderGroup {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, sb.descSize);
  const wide = (sb.featureIncompat & INCOMPAT_64BIT) !== 0 && sb.descSize >= 64;
  const u32 = (o: number) => v.getUint32(o, true);
  const u16 = (o: number) => v.getUint16(o, true);
  return {
    blockBitmap: u32(0) + (wide ? u32(32) * 2 ** 32 : 0),
    inodeBitmap: u32(4) + (wide ? u32(36) * 2 ** 32 : 0),
    inodeTable: u32(8) + (wide ? u32(40) * 2 ** 32 : 0),
    freeBlocks: u16(12) + (wide ? u16(44) * 65536 : 0),
    freeInodes: u16(14) + (wide ? u16(46) * 65536 : 0),
    usedDirs: u16(16) + (wide ? u16(48) * 65536 : 0),
    flags: u16(18),
    itableUnused: u16(28) + (wide ? u16(50) * 65536 : 0),
    checksum: u16(30),
    offset,
  };
}
