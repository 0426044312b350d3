import { viewOf } from "./_bytes.ts";
import { EXT2_MAGIC, SUPERBLOCK_SIZE } from "./constants.ts";
import { ExtFormatError } from "./errors.ts";

/**
 * The ext2/3/4 superblock (the fields bigfile reads or writes; 64-bit counts
 * combine their `_lo` and `_hi` halves). Times are seconds since the epoch.
 */
export interface Superblock {
  inodesCount: number;
  blocksCount: number;
  rBlocksCount: number;
  freeBlocksCount: number;
  freeInodesCount: number;
  firstDataBlock: number;
  logBlockSize: number;
  logClusterSize: number;
  blocksPerGroup: number;
  clustersPerGroup: number;
  inodesPerGroup: number;
  mtime: number;
  wtime: number;
  mntCount: number;
  /** Signed: -1 disables the mount-count check. */
  maxMntCount: number;
  magic: number;
  state: number;
  errors: number;
  minorRevLevel: number;
  lastcheck: number;
  checkinterval: number;
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
  /** 16 bytes. */
  uuid: Uint8Array;
  /** Up to 16 bytes, NUL-padded on disk. */
  volumeName: Uint8Array;
  /** Up to 64 bytes, NUL-padded on disk. */
  lastMounted: Uint8Array;
  algorithmUsageBitmap: number;
  preallocBlocks: number;
  preallocDirBlocks: number;
  reservedGdtBlocks: number;
  /** 16 bytes; all zero for an internal journal. */
  journalUuid: Uint8Array;
  journalInum: number;
  journalDev: number;
  lastOrphan: number;
  /** Four 32-bit words. */
  hashSeed: Uint32Array;
  defHashVersion: number;
  jnlBackupType: number;
  /** 0 or 32 unless the 64bit feature is on (then usually 64). */
  descSize: number;
  defaultMountOpts: number;
  firstMetaBg: number;
  mkfsTime: number;
  /** 17 words: the journal inode's i_block[0..14], i_size_high, i_size. */
  jnlBlocks: Uint32Array;
  minExtraIsize: number;
  wantExtraIsize: number;
  flags: number;
  raidStride: number;
  mmpInterval: number;
  mmpBlock: number;
  raidStripeWidth: number;
  logGroupsPerFlex: number;
  checksumType: number;
  kbytesWritten: number;
  /** Blocks of metadata overhead (0 when unknown; mke2fs 1.47 fills it). */
  overheadClusters: number;
  lpfIno: number;
  checksumSeed: number;
  encoding: number;
  encodingFlags: number;
  /** Quota inodes (0 = none). */
  usrQuotaInum: number;
  grpQuotaInum: number;
  prjQuotaInum: number;
  /** sparse_super2: the two groups holding backups (0 = none). */
  backupBgs: [number, number];
  /** orphan_file feature: the orphan file's inode (0 = none). */
  orphanFileInum: number;
  checksum: number;
}

/** The block size in bytes: `1024 << s_log_block_size`. */
export function superblockBlockSize(sb: Superblock): number {
  return 1024 << sb.logBlockSize;
}

/** The number of block groups of a superblock. */
export function superblockGroupCount(sb: Superblock): number {
  return Math.ceil((sb.blocksCount - sb.firstDataBlock) / sb.blocksPerGroup);
}

/** A superblock with every field zero (arrays empty of data), for building one field by field. */
export function emptySuperblock(): Superblock {
  return {
    inodesCount: 0,
    blocksCount: 0,
    rBlocksCount: 0,
    freeBlocksCount: 0,
    freeInodesCount: 0,
    firstDataBlock: 0,
    logBlockSize: 0,
    logClusterSize: 0,
    blocksPerGroup: 0,
    clustersPerGroup: 0,
    inodesPerGroup: 0,
    mtime: 0,
    wtime: 0,
    mntCount: 0,
    maxMntCount: 0,
    magic: EXT2_MAGIC,
    state: 0,
    errors: 0,
    minorRevLevel: 0,
    lastcheck: 0,
    checkinterval: 0,
    creatorOs: 0,
    revLevel: 0,
    defResuid: 0,
    defResgid: 0,
    firstIno: 0,
    inodeSize: 0,
    blockGroupNr: 0,
    featureCompat: 0,
    featureIncompat: 0,
    featureRoCompat: 0,
    uuid: new Uint8Array(16),
    volumeName: new Uint8Array(0),
    lastMounted: new Uint8Array(0),
    algorithmUsageBitmap: 0,
    preallocBlocks: 0,
    preallocDirBlocks: 0,
    reservedGdtBlocks: 0,
    journalUuid: new Uint8Array(16),
    journalInum: 0,
    journalDev: 0,
    lastOrphan: 0,
    hashSeed: new Uint32Array(4),
    defHashVersion: 0,
    jnlBackupType: 0,
    descSize: 0,
    defaultMountOpts: 0,
    firstMetaBg: 0,
    mkfsTime: 0,
    jnlBlocks: new Uint32Array(17),
    minExtraIsize: 0,
    wantExtraIsize: 0,
    flags: 0,
    raidStride: 0,
    mmpInterval: 0,
    mmpBlock: 0,
    raidStripeWidth: 0,
    logGroupsPerFlex: 0,
    checksumType: 0,
    kbytesWritten: 0,
    overheadClusters: 0,
    lpfIno: 0,
    checksumSeed: 0,
    encoding: 0,
    encodingFlags: 0,
    usrQuotaInum: 0,
    grpQuotaInum: 0,
    prjQuotaInum: 0,
    backupBgs: [0, 0],
    orphanFileInum: 0,
    checksum: 0,
  };
}

const HI = 2 ** 32;

function trimNul(bytes: Uint8Array): Uint8Array {
  const end = bytes.indexOf(0);
  return (end < 0 ? bytes : bytes.subarray(0, end)).slice();
}

/**
 * Decodes a superblock from its 1024 bytes (`bytes` starts at the superblock,
 * i.e. image offset 1024 for the primary).
 *
 * @throws {ExtFormatError} if the buffer is short or the magic is not 0xEF53.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, readFile, writeFile } from "node:fs/promises";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { mkfs } from "@bigfile/ext3fs/node";
 * import { decodeSuperblock, EXT2_MAGIC } from "@bigfile/ext3fs";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * await writeToFile((await mkfs(["rootfs"], { size: 8 << 20, seed: "docs" })).chunks(), "root.ext3");
 * const image = await readFile("root.ext3");
 * const sb = decodeSuperblock(image.subarray(1024, 2048));
 * assert.equal(sb.magic, EXT2_MAGIC);
 * assert.equal(sb.blocksCount * (1024 << sb.logBlockSize), 8 << 20);
 * ```
 */
export function decodeSuperblock(bytes: Uint8Array): Superblock {
  if (bytes.length < SUPERBLOCK_SIZE) {
    throw new ExtFormatError(
      `Cannot parse superblock: ${bytes.length} bytes, expected ${SUPERBLOCK_SIZE}`,
      0,
    );
  }
  const v = viewOf(bytes);
  const magic = v.getUint16(56, true);
  if (magic !== EXT2_MAGIC) {
    throw new ExtFormatError(
      `Cannot parse superblock: magic is 0x${magic.toString(16).padStart(4, "0")}`,
      56,
    );
  }
  const u32 = (o: number) => v.getUint32(o, true);
  const u16 = (o: number) => v.getUint16(o, true);
  const incompat = u32(96);
  const is64 = (incompat & 0x80) !== 0;
  const hi = (o: number) => (is64 ? u32(o) * HI : 0);
  const hashSeed = new Uint32Array(4);
  for (let i = 0; i < 4; i++) hashSeed[i] = u32(236 + i * 4);
  const jnlBlocks = new Uint32Array(17);
  for (let i = 0; i < 17; i++) jnlBlocks[i] = u32(268 + i * 4);
  return {
    inodesCount: u32(0),
    blocksCount: u32(4) + hi(336),
    rBlocksCount: u32(8) + hi(340),
    freeBlocksCount: u32(12) + hi(344),
    freeInodesCount: u32(16),
    firstDataBlock: u32(20),
    logBlockSize: u32(24),
    logClusterSize: u32(28),
    blocksPerGroup: u32(32),
    clustersPerGroup: u32(36),
    inodesPerGroup: u32(40),
    mtime: u32(44),
    wtime: u32(48),
    mntCount: u16(52),
    maxMntCount: v.getInt16(54, true),
    magic,
    state: u16(58),
    errors: u16(60),
    minorRevLevel: u16(62),
    lastcheck: u32(64),
    checkinterval: u32(68),
    creatorOs: u32(72),
    revLevel: u32(76),
    defResuid: u16(80),
    defResgid: u16(82),
    firstIno: u32(84),
    inodeSize: u16(88),
    blockGroupNr: u16(90),
    featureCompat: u32(92),
    featureIncompat: incompat,
    featureRoCompat: u32(100),
    uuid: bytes.slice(104, 120),
    volumeName: trimNul(bytes.subarray(120, 136)),
    lastMounted: trimNul(bytes.subarray(136, 200)),
    algorithmUsageBitmap: u32(200),
    preallocBlocks: bytes[204] ?? 0,
    preallocDirBlocks: bytes[205] ?? 0,
    reservedGdtBlocks: u16(206),
    journalUuid: bytes.slice(208, 224),
    journalInum: u32(224),
    journalDev: u32(228),
    lastOrphan: u32(232),
    hashSeed,
    defHashVersion: bytes[252] ?? 0,
    jnlBackupType: bytes[253] ?? 0,
    descSize: u16(254),
    defaultMountOpts: u32(256),
    firstMetaBg: u32(260),
    mkfsTime: u32(264),
    jnlBlocks,
    minExtraIsize: u16(348),
    wantExtraIsize: u16(350),
    flags: u32(352),
    raidStride: u16(356),
    mmpInterval: u16(358),
    mmpBlock: u32(360) + u32(364) * HI,
    raidStripeWidth: u32(368),
    logGroupsPerFlex: bytes[372] ?? 0,
    checksumType: bytes[373] ?? 0,
    kbytesWritten: u32(376) + u32(380) * HI,
    overheadClusters: u32(0x248),
    lpfIno: u32(0x268),
    checksumSeed: u32(0x270),
    encoding: u16(0x27c),
    encodingFlags: u16(0x27e),
    usrQuotaInum: u32(0x240),
    grpQuotaInum: u32(0x244),
    prjQuotaInum: u32(0x26c),
    backupBgs: [u32(0x24c), u32(0x250)],
    orphanFileInum: u32(0x280),
    checksum: u32(0x3fc),
  };
}

/**
 * Encodes a superblock into 1024 bytes. When `into` is given (at least 1024
 * bytes), fields are written over it, so bytes this codec does not model
 * survive a decode/encode round trip; otherwise a zeroed buffer is used.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, readFile, writeFile } from "node:fs/promises";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { mkfs } from "@bigfile/ext3fs/node";
 * import { decodeSuperblock, encodeSuperblock } from "@bigfile/ext3fs";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * await writeToFile((await mkfs(["rootfs"], { size: 8 << 20, seed: "docs" })).chunks(), "root.ext3");
 * const image = await readFile("root.ext3");
 * const raw = image.subarray(1024, 2048);
 * const sb = decodeSuperblock(raw);
 * sb.blockGroupNr = 1;
 * const backup = encodeSuperblock(sb, raw.slice());
 * assert.equal(decodeSuperblock(backup).blockGroupNr, 1);
 * assert.deepEqual(backup.subarray(0, 90), raw.subarray(0, 90)); // the rest round-trips
 * ```
 */
export function encodeSuperblock(sb: Superblock, into?: Uint8Array): Uint8Array {
  const bytes = into ?? new Uint8Array(SUPERBLOCK_SIZE);
  if (bytes.length < SUPERBLOCK_SIZE) {
    throw new RangeError(
      `Cannot encode superblock into ${bytes.length} bytes: need ${SUPERBLOCK_SIZE}`,
    );
  }
  const v = viewOf(bytes);
  const w32 = (o: number, x: number) => v.setUint32(o, x >>> 0, true);
  const w16 = (o: number, x: number) => v.setUint16(o, x & 0xffff, true);
  const lo = (x: number) => x % HI;
  const hi = (x: number) => Math.floor(x / HI);
  w32(0, sb.inodesCount);
  w32(4, lo(sb.blocksCount));
  w32(8, lo(sb.rBlocksCount));
  w32(12, lo(sb.freeBlocksCount));
  w32(16, sb.freeInodesCount);
  w32(20, sb.firstDataBlock);
  w32(24, sb.logBlockSize);
  w32(28, sb.logClusterSize);
  w32(32, sb.blocksPerGroup);
  w32(36, sb.clustersPerGroup);
  w32(40, sb.inodesPerGroup);
  w32(44, sb.mtime);
  w32(48, sb.wtime);
  w16(52, sb.mntCount);
  v.setInt16(54, sb.maxMntCount, true);
  w16(56, sb.magic);
  w16(58, sb.state);
  w16(60, sb.errors);
  w16(62, sb.minorRevLevel);
  w32(64, sb.lastcheck);
  w32(68, sb.checkinterval);
  w32(72, sb.creatorOs);
  w32(76, sb.revLevel);
  w16(80, sb.defResuid);
  w16(82, sb.defResgid);
  w32(84, sb.firstIno);
  w16(88, sb.inodeSize);
  w16(90, sb.blockGroupNr);
  w32(92, sb.featureCompat);
  w32(96, sb.featureIncompat);
  w32(100, sb.featureRoCompat);
  bytes.set(sb.uuid.subarray(0, 16), 104);
  bytes.fill(0, 120, 200);
  bytes.set(sb.volumeName.subarray(0, 16), 120);
  bytes.set(sb.lastMounted.subarray(0, 64), 136);
  w32(200, sb.algorithmUsageBitmap);
  bytes[204] = sb.preallocBlocks;
  bytes[205] = sb.preallocDirBlocks;
  w16(206, sb.reservedGdtBlocks);
  bytes.set(sb.journalUuid.subarray(0, 16), 208);
  w32(224, sb.journalInum);
  w32(228, sb.journalDev);
  w32(232, sb.lastOrphan);
  for (let i = 0; i < 4; i++) w32(236 + i * 4, sb.hashSeed[i] ?? 0);
  bytes[252] = sb.defHashVersion;
  bytes[253] = sb.jnlBackupType;
  w16(254, sb.descSize);
  w32(256, sb.defaultMountOpts);
  w32(260, sb.firstMetaBg);
  w32(264, sb.mkfsTime);
  for (let i = 0; i < 17; i++) w32(268 + i * 4, sb.jnlBlocks[i] ?? 0);
  w32(336, hi(sb.blocksCount));
  w32(340, hi(sb.rBlocksCount));
  w32(344, hi(sb.freeBlocksCount));
  w16(348, sb.minExtraIsize);
  w16(350, sb.wantExtraIsize);
  w32(352, sb.flags);
  w16(356, sb.raidStride);
  w16(358, sb.mmpInterval);
  w32(360, lo(sb.mmpBlock));
  w32(364, hi(sb.mmpBlock));
  w32(368, sb.raidStripeWidth);
  bytes[372] = sb.logGroupsPerFlex;
  bytes[373] = sb.checksumType;
  w32(376, lo(sb.kbytesWritten));
  w32(380, hi(sb.kbytesWritten));
  w32(0x248, sb.overheadClusters);
  w32(0x268, sb.lpfIno);
  w32(0x270, sb.checksumSeed);
  w16(0x27c, sb.encoding);
  w16(0x27e, sb.encodingFlags);
  w32(0x240, sb.usrQuotaInum);
  w32(0x244, sb.grpQuotaInum);
  w32(0x26c, sb.prjQuotaInum);
  w32(0x24c, sb.backupBgs[0]);
  w32(0x250, sb.backupBgs[1]);
  w32(0x280, sb.orphanFileInum);
  w32(0x3fc, sb.checksum);
  return bytes;
}
