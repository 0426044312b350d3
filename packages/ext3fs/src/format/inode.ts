import { viewOf } from "./_bytes.ts";
import { GOOD_OLD_INODE_SIZE, N_BLOCKS } from "./constants.ts";
import { ExtFormatError } from "./errors.ts";

/**
 * An on-disk inode. 32-bit halves are combined: `uid`/`gid` include the high
 * 16 bits, `size` includes `i_size_high`, `blocks` (512-byte units unless
 * HUGE_FILE) includes `l_i_blocks_hi`. The `*Extra` fields exist only in
 * inodes larger than 128 bytes with a large enough `extraIsize`; they hold
 * `(nanoseconds << 2) | epoch bits`.
 */
export interface Inode {
  mode: number;
  uid: number;
  size: number;
  atime: number;
  ctime: number;
  mtime: number;
  dtime: number;
  gid: number;
  linksCount: number;
  blocks: number;
  flags: number;
  version: number;
  /** 15 words: 12 direct, IND, DIND, TIND (or inline symlink bytes / device numbers). */
  block: Uint32Array;
  generation: number;
  fileAcl: number;
  faddr: number;
  checksumLo: number;
  extraIsize: number;
  checksumHi: number;
  ctimeExtra: number;
  mtimeExtra: number;
  atimeExtra: number;
  crtime: number;
  crtimeExtra: number;
  versionHi: number;
  projid: number;
}

/** An inode with every field zero. */
export function emptyInode(): Inode {
  return {
    mode: 0,
    uid: 0,
    size: 0,
    atime: 0,
    ctime: 0,
    mtime: 0,
    dtime: 0,
    gid: 0,
    linksCount: 0,
    blocks: 0,
    flags: 0,
    version: 0,
    block: new Uint32Array(N_BLOCKS),
    generation: 0,
    fileAcl: 0,
    faddr: 0,
    checksumLo: 0,
    extraIsize: 0,
    checksumHi: 0,
    ctimeExtra: 0,
    mtimeExtra: 0,
    atimeExtra: 0,
    crtime: 0,
    crtimeExtra: 0,
    versionHi: 0,
    projid: 0,
  };
}

const HI = 2 ** 32;

/**
 * Decodes an inode from its `inode_size` bytes (128 or more).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, readFile, writeFile } from "node:fs/promises";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { mkfs } from "@bigfile/ext3fs/node";
 * import { decodeGroupDescriptor, decodeInode, decodeSuperblock } from "@bigfile/ext3fs";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * await writeToFile((await mkfs(["rootfs"], { size: 8 << 20, seed: "docs" })).chunks(), "root.ext3");
 * const image = await readFile("root.ext3");
 * const sb = decodeSuperblock(image.subarray(1024, 2048));
 * const blockSize = 1024 << sb.logBlockSize;
 * const gd = decodeGroupDescriptor(image.subarray((sb.firstDataBlock + 1) * blockSize));
 * const inodeTable = image.subarray(gd.inodeTable * blockSize);
 * assert.equal(sb.inodeSize, 256);
 * const root = decodeInode(inodeTable.subarray(256, 512)); // inode 2 with 256-byte inodes
 * assert.equal(root.mode & 0o170000, 0o040000); // a directory
 * ```
 */
export function decodeInode(bytes: Uint8Array): Inode {
  if (bytes.length < GOOD_OLD_INODE_SIZE) {
    throw new ExtFormatError(`Cannot parse inode: ${bytes.length} bytes, expected at least 128`, 0);
  }
  const v = viewOf(bytes);
  const u32 = (o: number) => v.getUint32(o, true);
  const u16 = (o: number) => v.getUint16(o, true);
  const block = new Uint32Array(N_BLOCKS);
  for (let i = 0; i < N_BLOCKS; i++) block[i] = u32(40 + i * 4);
  const inode = emptyInode();
  inode.mode = u16(0);
  inode.uid = u16(2) | (u16(120) << 16);
  inode.uid >>>= 0;
  inode.size = u32(4) + u32(108) * HI;
  inode.atime = u32(8);
  inode.ctime = u32(12);
  inode.mtime = u32(16);
  inode.dtime = u32(20);
  inode.gid = (u16(24) | (u16(122) << 16)) >>> 0;
  inode.linksCount = u16(26);
  inode.blocks = u32(28) + u16(116) * HI;
  inode.flags = u32(32);
  inode.version = u32(36);
  inode.block = block;
  inode.generation = u32(100);
  inode.fileAcl = u32(104) + u16(118) * HI;
  inode.faddr = u32(112);
  inode.checksumLo = u16(124);
  if (bytes.length > GOOD_OLD_INODE_SIZE) {
    const extra = u16(128);
    inode.extraIsize = extra;
    const has = (end: number) => GOOD_OLD_INODE_SIZE + extra >= end && bytes.length >= end;
    if (has(132)) inode.checksumHi = u16(130);
    if (has(136)) inode.ctimeExtra = u32(132);
    if (has(140)) inode.mtimeExtra = u32(136);
    if (has(144)) inode.atimeExtra = u32(140);
    if (has(148)) inode.crtime = u32(144);
    if (has(152)) inode.crtimeExtra = u32(148);
    if (has(156)) inode.versionHi = u32(152);
    if (has(160)) inode.projid = u32(156);
  }
  return inode;
}

/**
 * Encodes an inode into `size` bytes (128 or 256, or more), writing over `into`
 * when given. Fields beyond 128 bytes are written only when `size > 128`, up to
 * `128 + extraIsize`.
 */
export function encodeInode(
  inode: Inode,
  size: number = GOOD_OLD_INODE_SIZE,
  into?: Uint8Array,
): Uint8Array {
  const bytes = into ?? new Uint8Array(size);
  // Direct DataView calls, no helper closures: mkfs encodes one inode per
  // object, often before V8 optimizes this (7x faster unoptimized).
  // setUint32/setUint16 keep the low 32/16 bits.
  const v = viewOf(bytes);
  v.setUint16(0, inode.mode, true);
  v.setUint16(2, inode.uid, true);
  v.setUint32(4, inode.size, true);
  v.setUint32(8, inode.atime, true);
  v.setUint32(12, inode.ctime, true);
  v.setUint32(16, inode.mtime, true);
  v.setUint32(20, inode.dtime, true);
  v.setUint16(24, inode.gid, true);
  v.setUint16(26, inode.linksCount, true);
  v.setUint32(28, inode.blocks, true);
  v.setUint32(32, inode.flags, true);
  v.setUint32(36, inode.version, true);
  const block = inode.block;
  for (let i = 0; i < N_BLOCKS; i++) v.setUint32(40 + i * 4, block[i] ?? 0, true);
  v.setUint32(100, inode.generation, true);
  v.setUint32(104, inode.fileAcl, true);
  v.setUint32(108, Math.floor(inode.size / HI), true);
  v.setUint32(112, inode.faddr, true);
  v.setUint16(116, Math.floor(inode.blocks / HI), true);
  v.setUint16(118, Math.floor(inode.fileAcl / HI), true);
  v.setUint16(120, inode.uid >>> 16, true);
  v.setUint16(122, inode.gid >>> 16, true);
  v.setUint16(124, inode.checksumLo, true);
  v.setUint16(126, 0, true);
  if (size > GOOD_OLD_INODE_SIZE) {
    // Fields up to 128 + i_extra_isize, and inside `size`.
    const end = Math.min(GOOD_OLD_INODE_SIZE + inode.extraIsize, size);
    v.setUint16(128, inode.extraIsize, true);
    if (end >= 132) v.setUint16(130, inode.checksumHi, true);
    if (end >= 136) v.setUint32(132, inode.ctimeExtra, true);
    if (end >= 140) v.setUint32(136, inode.mtimeExtra, true);
    if (end >= 144) v.setUint32(140, inode.atimeExtra, true);
    if (end >= 148) v.setUint32(144, inode.crtime, true);
    if (end >= 152) v.setUint32(148, inode.crtimeExtra, true);
    if (end >= 156) v.setUint32(152, inode.versionHi, true);
    if (end >= 160) v.setUint32(156, inode.projid, true);
  }
  return bytes;
}

/**
 * The `*_extra` time word for a time: nanoseconds shifted left by 2, with the
 * two epoch bits that extend seconds past 2038 (for `seconds` outside the
 * signed 32-bit range).
 */
export function encodeExtraTime(seconds: number, nanoseconds: number): number {
  const epoch = Math.floor((seconds + 2 ** 31) / 2 ** 32) & 3;
  return ((nanoseconds << 2) | epoch) >>> 0;
}

/** Full seconds of a 32-bit time field and its extra word (the epoch bits). */
export function decodeExtraTime(
  low: number,
  extra: number,
): { seconds: number; nanoseconds: number } {
  const signed = low | 0;
  return { seconds: signed + (extra & 3) * 2 ** 32, nanoseconds: extra >>> 2 };
}

/** Device number as stored in `i_block` (old format when both < 256, new otherwise). */
export function encodeDevice(major: number, minor: number, block: Uint32Array): void {
  block.fill(0);
  if (major < 256 && minor < 256) {
    block[0] = major * 256 + minor;
  } else {
    block[1] = ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0;
  }
}

/** Device number stored in `i_block` (either format). */
export function decodeDevice(block: Uint32Array): { major: number; minor: number } {
  const old = block[0] ?? 0;
  if (old !== 0) return { major: (old >>> 8) & 0xff, minor: old & 0xff };
  const d = block[1] ?? 0;
  return { major: (d >>> 8) & 0xfff, minor: (d & 0xff) | ((d >>> 12) & 0xfff00) };
}
