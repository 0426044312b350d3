import { decodeSuperblock, type Superblock } from "../format/superblock.ts";
import {
  INCOMPAT_64BIT,
  INCOMPAT_INLINE_DATA,
  INCOMPAT_READABLE,
  RO_COMPAT_BIGALLOC,
  unknownIncompat,
} from "./_features.ts";
import { ExtCorruptionError, ExtUnsupportedError } from "./errors.ts";

/** Byte offset of the primary superblock in a filesystem image. */
export const SUPERBLOCK_OFFSET = 1024;

/** The superblock as the reader sees it: the format codec's fields, plus the block size. */
export interface ReaderSuperblock extends Superblock {
  blockSize: number;
}

/**
 * Decodes and sanity-checks the 1024-byte superblock; `deviceSize` bounds
 * every count so that later allocations stay proportional to the image.
 */
export function decodeReaderSuperblock(
  bytes: Uint8Array,
  deviceSize: number,
  base = SUPERBLOCK_OFFSET,
  allowInlineData = false,
): ReaderSuperblock {
  if (bytes.length < 1024) {
    throw new ExtCorruptionError(
      `Cannot read the superblock: the image holds ${deviceSize} bytes, fewer than 2048`,
      base,
    );
  }
  const magic = (bytes[56] ?? 0) | ((bytes[57] ?? 0) << 8);
  if (magic !== 0xef53) {
    throw new ExtCorruptionError(
      `Cannot open the filesystem: superblock magic is 0x${magic.toString(16).padStart(4, "0")}, expected 0xef53 (not ext2/ext3/ext4, or a disk image: try --partition 1)`,
      base + 56,
    );
  }
  const raw = decodeSuperblock(bytes);
  const rev0 = raw.revLevel === 0;
  const sb: ReaderSuperblock = {
    ...raw,
    // Revision 0 has fixed values where later revisions have fields.
    firstIno: rev0 ? 11 : raw.firstIno,
    inodeSize: rev0 ? 128 : raw.inodeSize,
    featureCompat: rev0 ? 0 : raw.featureCompat,
    featureIncompat: rev0 ? 0 : raw.featureIncompat,
    featureRoCompat: rev0 ? 0 : raw.featureRoCompat,
    descSize: raw.featureIncompat & INCOMPAT_64BIT ? raw.descSize : 32,
    blockSize: 0,
  };
  const fail = (message: string, field: number): never => {
    throw new ExtCorruptionError(`Cannot open the filesystem: ${message}`, base + field);
  };
  if (sb.logBlockSize > 6) fail(`block size exponent ${sb.logBlockSize} is out of range (0-6)`, 24);
  sb.blockSize = 1024 << sb.logBlockSize;
  if (sb.featureRoCompat & RO_COMPAT_BIGALLOC) {
    throw new ExtUnsupportedError(
      "Cannot read this filesystem: it uses bigalloc (clusters larger than blocks)",
      base + 100,
    );
  }
  const unknown = unknownIncompat(
    sb.featureIncompat,
    INCOMPAT_READABLE | (allowInlineData ? INCOMPAT_INLINE_DATA : 0),
  );
  if (unknown.length > 0) {
    throw new ExtUnsupportedError(
      `Cannot read this filesystem: it uses ${unknown.join(", ")}`,
      base + 96,
    );
  }
  if (sb.blocksCount === 0) fail("the block count is 0", 4);
  if (sb.blocksCount * sb.blockSize > deviceSize) {
    fail(
      `the superblock says ${sb.blocksCount} blocks of ${sb.blockSize} bytes (${sb.blocksCount * sb.blockSize} bytes) but the image holds only ${deviceSize} bytes (truncated?)`,
      4,
    );
  }
  const expectedFirst = sb.blockSize === 1024 ? 1 : 0;
  if (sb.firstDataBlock !== expectedFirst) {
    fail(
      `the first data block is ${sb.firstDataBlock}, expected ${expectedFirst} for ${sb.blockSize}-byte blocks`,
      20,
    );
  }
  if (sb.blocksPerGroup < 8 || sb.blocksPerGroup > 8 * sb.blockSize) {
    fail(`${sb.blocksPerGroup} blocks per group is out of range (8-${8 * sb.blockSize})`, 32);
  }
  if (sb.inodesPerGroup < 1 || sb.inodesPerGroup > 8 * sb.blockSize) {
    fail(`${sb.inodesPerGroup} inodes per group is out of range (1-${8 * sb.blockSize})`, 40);
  }
  if (
    sb.inodeSize < 128 ||
    sb.inodeSize > sb.blockSize ||
    (sb.inodeSize & (sb.inodeSize - 1)) !== 0
  ) {
    fail(`inode size ${sb.inodeSize} is not a power of two between 128 and the block size`, 88);
  }
  if (
    sb.featureIncompat & INCOMPAT_64BIT &&
    (sb.descSize < 32 || sb.descSize > 1024 || (sb.descSize & (sb.descSize - 1)) !== 0)
  ) {
    fail(`group descriptor size ${sb.descSize} is not a power of two between 32 and 1024`, 254);
  }
  const groups = Math.ceil((sb.blocksCount - sb.firstDataBlock) / sb.blocksPerGroup);
  if (sb.inodesCount !== groups * sb.inodesPerGroup) {
    fail(
      `the inode count ${sb.inodesCount} is not ${groups} groups x ${sb.inodesPerGroup} inodes`,
      0,
    );
  }
  if (sb.firstIno < 11 || sb.firstIno > sb.inodesCount)
    fail(`the first inode ${sb.firstIno} is out of range`, 84);
  return sb;
}

/** The number of block groups. */
export function groupCount(sb: ReaderSuperblock): number {
  return Math.ceil((sb.blocksCount - sb.firstDataBlock) / sb.blocksPerGroup);
}
