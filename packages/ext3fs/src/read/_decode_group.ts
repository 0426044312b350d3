import { decodeGroupDescriptor } from "../format/mod.ts";
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
  blockBitmapCsum: number;
  inodeBitmapCsum: number;
  /** Byte offset of the descriptor in the image. */
  offset: number;
}

/** Decodes the descriptor at `at` in `bytes` (32 or 64 bytes) with the format codec. */
export function decodeReaderGroup(
  bytes: Uint8Array,
  at: number,
  sb: ReaderSuperblock,
  offset: number,
): ReaderGroup {
  const wide = (sb.featureIncompat & INCOMPAT_64BIT) !== 0 && sb.descSize >= 64;
  const size = wide ? sb.descSize : 32;
  const gd = decodeGroupDescriptor(bytes.subarray(at, at + size), size);
  return {
    blockBitmap: gd.blockBitmap,
    inodeBitmap: gd.inodeBitmap,
    inodeTable: gd.inodeTable,
    freeBlocks: gd.freeBlocksCount,
    freeInodes: gd.freeInodesCount,
    usedDirs: gd.usedDirsCount,
    flags: gd.flags,
    itableUnused: gd.itableUnused,
    checksum: gd.checksum,
    blockBitmapCsum: gd.blockBitmapCsum,
    inodeBitmapCsum: gd.inodeBitmapCsum,
    offset,
  };
}
