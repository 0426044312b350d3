import {
  INCOMPAT_64BIT,
  INCOMPAT_READABLE,
  RO_COMPAT_BIGALLOC,
  unknownIncompat,
} from "./_features.ts";
import { ExtCorruptionError, ExtUnsupportedError } from "./errors.ts";

/** Byte offset of the primary superblock in a filesystem image. */
export const SUPERBLOCK_OFFSET = 1024;

/** The superblock fields the reader uses (ext2/3/4). */
export interface ReaderSuperblock {
  inodesCount: number;
  blocksCount: number;
  reservedBlocksCount: number;
  freeBlocksCount: number;
  freeInodesCount: number;
  firstDataBlock: number;
  logBlockSize: number;
  logClusterSize: number;
  blockSize: number;
  blocksPerGroup: number;
  clustersPerGroup: number;
  inodesPerGroup: number;
  mountTime: number;
  writeTime: number;
  mountCount: number;
  maxMountCount: number;
  magic: number;
  state: number;
  errors: number;
  minorRevLevel: number;
  lastCheck: number;
  checkInterval: number;
  creatorOs: number;
  revLevel: number;
  defResuid: number;
  defResgid: number;
  firstIno: number;
  inodeSize: number;
  blockGroupNr: number;
  featureCompat: number;
  featureIncompat: number;
  featureRoCompat: number;
  uuid: Uint8Array;
  volumeName: string;
  lastMounted: string;
  reservedGdtBlocks: number;
  journalUuid: Uint8Array;
  journalInum: number;
  journalDev: number;
  lastOrphan: number;
  hashSeed: Uint8Array;
  defHashVersion: number;
  jnlBackupType: number;
  descSize: number;
  defaultMountOpts: number;
  firstMetaBg: number;
  mkfsTime: number;
  jnlBlocks: number[];
  minExtraIsize: number;
  wantExtraIsize: number;
  flags: number;
  logGroupsPerFlex: number;
  checksumType: number;
  kbytesWritten: number;
  checksum: number;
  checksumSeed: number;
  usrQuotaInum: number;
  grpQuotaInum: number;
  prjQuotaInum: number;
  orphanFileInum: number;
  /** sparse_super2: the two groups holding backups (0 = none). */
  backupBgs: [number, number];
}

function text(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder("utf-8", { fatal: false }).decode(
    end < 0 ? bytes : bytes.subarray(0, end),
  );
}

/**
 * Decodes and sanity-checks the 1024-byte superblock; `deviceSize` bounds
 * every count so that later allocations stay proportional to the image.
 */
export function decodeReaderSuperblock(
  bytes: Uint8Array,
  deviceSize: number,
  base = SUPERBLOCK_OFFSET,
): ReaderSuperblock {
  if (bytes.length < 1024) {
    throw new ExtCorruptionError(
      `Cannot read the superblock: the image holds ${deviceSize} bytes, fewer than 2048`,
      base,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => v.getUint32(o, true);
  const u16 = (o: number) => v.getUint16(o, true);
  const magic = u16(56);
  if (magic !== 0xef53) {
    throw new ExtCorruptionError(
      `Cannot open the filesystem: superblock magic is 0x${magic.toString(16).padStart(4, "0")}, expected 0xef53 (not ext2/ext3/ext4, or a disk image: try --partition 1)`,
      base + 56,
    );
  }
  const incompat = u32(96);
  const roCompat = u32(100);
  const is64 = (incompat & INCOMPAT_64BIT) !== 0;
  const revLevel = u32(76);
  const sb: ReaderSuperblock = {
    inodesCount: u32(0),
    blocksCount: u32(4) + (is64 ? u32(336) * 2 ** 32 : 0),
    reservedBlocksCount: u32(8) + (is64 ? u32(340) * 2 ** 32 : 0),
    freeBlocksCount: u32(12) + (is64 ? u32(344) * 2 ** 32 : 0),
    freeInodesCount: u32(16),
    firstDataBlock: u32(20),
    logBlockSize: u32(24),
    logClusterSize: u32(28),
    blockSize: 0,
    blocksPerGroup: u32(32),
    clustersPerGroup: u32(36),
    inodesPerGroup: u32(40),
    mountTime: u32(44),
    writeTime: u32(48),
    mountCount: u16(52),
    maxMountCount: v.getInt16(54, true),
    magic,
    state: u16(58),
    errors: u16(60),
    minorRevLevel: u16(62),
    lastCheck: u32(64),
    checkInterval: u32(68),
    creatorOs: u32(72),
    revLevel,
    defResuid: u16(80),
    defResgid: u16(82),
    firstIno: revLevel === 0 ? 11 : u32(84),
    inodeSize: revLevel === 0 ? 128 : u16(88),
    blockGroupNr: u16(90),
    featureCompat: revLevel === 0 ? 0 : u32(92),
    featureIncompat: revLevel === 0 ? 0 : incompat,
    featureRoCompat: revLevel === 0 ? 0 : roCompat,
    uuid: bytes.slice(104, 120),
    volumeName: text(bytes.subarray(120, 136)),
    lastMounted: text(bytes.subarray(136, 200)),
    reservedGdtBlocks: u16(206),
    journalUuid: bytes.slice(208, 224),
    journalInum: u32(224),
    journalDev: u32(228),
    lastOrphan: u32(232),
    hashSeed: bytes.slice(236, 252),
    defHashVersion: bytes[252] ?? 0,
    jnlBackupType: bytes[253] ?? 0,
    descSize: is64 ? u16(254) : 32,
    defaultMountOpts: u32(256),
    firstMetaBg: u32(260),
    mkfsTime: u32(264),
    jnlBlocks: Array.from({ length: 17 }, (_, i) => u32(268 + 4 * i)),
    minExtraIsize: u16(348),
    wantExtraIsize: u16(350),
    flags: u32(352),
    logGroupsPerFlex: bytes[372] ?? 0,
    checksumType: bytes[373] ?? 0,
    kbytesWritten: Number(v.getBigUint64(376, true)),
    checksum: u32(1020),
    backupBgs: [u32(588), u32(592)],
    checksumSeed: u32(624),
    usrQuotaInum: u32(576),
    grpQuotaInum: u32(580),
    prjQuotaInum: u32(620),
    orphanFileInum: u32(640),
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
  const unknown = unknownIncompat(sb.featureIncompat, INCOMPAT_READABLE);
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
