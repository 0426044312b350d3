import { viewOf } from "./_bytes.ts";
import { GROUP_DESC_SIZE, GROUP_DESC_SIZE_64 } from "./constants.ts";
import { ExtFormatError } from "./errors.ts";

/** A block group descriptor (32 bytes classic, 64 bytes with the 64bit feature). */
export interface GroupDescriptor {
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
  freeBlocksCount: number;
  freeInodesCount: number;
  usedDirsCount: number;
  flags: number;
  excludeBitmap: number;
  blockBitmapCsum: number;
  inodeBitmapCsum: number;
  itableUnused: number;
  checksum: number;
}

const HI = 2 ** 32;

/**
 * Decodes one group descriptor. `size` is the descriptor size: 32, or the
 * superblock's `s_desc_size` (64) on 64bit filesystems, whose high halves are
 * then combined in.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, readFile, writeFile } from "node:fs/promises";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { mkfs } from "@bigfile/ext3fs/node";
 * import { decodeGroupDescriptor, decodeSuperblock } from "@bigfile/ext3fs";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * await writeToFile((await mkfs(["rootfs"], { size: 8 << 20, seed: "docs" })).chunks(), "root.ext3");
 * const image = await readFile("root.ext3");
 * const sb = decodeSuperblock(image.subarray(1024, 2048));
 * const blockSize = 1024 << sb.logBlockSize;
 * const gdtBlock = image.subarray((sb.firstDataBlock + 1) * blockSize, (sb.firstDataBlock + 2) * blockSize);
 * const g = 0;
 * const gd = decodeGroupDescriptor(gdtBlock.subarray(32 * g, 32 * g + 32));
 * assert.ok(gd.inodeTable > gd.inodeBitmap && gd.inodeBitmap > gd.blockBitmap);
 * ```
 */
export function decodeGroupDescriptor(
  bytes: Uint8Array,
  size: number = GROUP_DESC_SIZE,
): GroupDescriptor {
  if (bytes.length < size || size < GROUP_DESC_SIZE) {
    throw new ExtFormatError(
      `Cannot parse group descriptor: ${bytes.length} bytes, expected ${size}`,
      0,
    );
  }
  const v = viewOf(bytes);
  const u32 = (o: number) => v.getUint32(o, true);
  const u16 = (o: number) => v.getUint16(o, true);
  const wide = size >= GROUP_DESC_SIZE_64;
  const h32 = (o: number) => (wide ? u32(o) * HI : 0);
  const h16 = (o: number) => (wide ? u16(o) * 65536 : 0);
  return {
    blockBitmap: u32(0) + h32(32),
    inodeBitmap: u32(4) + h32(36),
    inodeTable: u32(8) + h32(40),
    freeBlocksCount: u16(12) + h16(44),
    freeInodesCount: u16(14) + h16(46),
    usedDirsCount: u16(16) + h16(48),
    flags: u16(18),
    excludeBitmap: u32(20) + h32(52),
    blockBitmapCsum: u16(24) + h16(56),
    inodeBitmapCsum: u16(26) + h16(58),
    itableUnused: u16(28) + h16(50),
    checksum: u16(30),
  };
}

/**
 * Encodes one group descriptor into `size` (32 or 64) bytes at `into` (or a
 * new buffer).
 */
export function encodeGroupDescriptor(
  gd: GroupDescriptor,
  into?: Uint8Array,
  size: number = GROUP_DESC_SIZE,
): Uint8Array {
  const bytes = into ?? new Uint8Array(size);
  const v = viewOf(bytes);
  const w32 = (o: number, x: number) => v.setUint32(o, x % HI, true);
  const w16 = (o: number, x: number) => v.setUint16(o, x & 0xffff, true);
  w32(0, gd.blockBitmap);
  w32(4, gd.inodeBitmap);
  w32(8, gd.inodeTable);
  w16(12, gd.freeBlocksCount);
  w16(14, gd.freeInodesCount);
  w16(16, gd.usedDirsCount);
  w16(18, gd.flags);
  w32(20, gd.excludeBitmap);
  w16(24, gd.blockBitmapCsum);
  w16(26, gd.inodeBitmapCsum);
  w16(28, gd.itableUnused);
  w16(30, gd.checksum);
  if (size >= GROUP_DESC_SIZE_64) {
    w32(32, Math.floor(gd.blockBitmap / HI));
    w32(36, Math.floor(gd.inodeBitmap / HI));
    w32(40, Math.floor(gd.inodeTable / HI));
    w16(44, gd.freeBlocksCount >>> 16);
    w16(46, gd.freeInodesCount >>> 16);
    w16(48, gd.usedDirsCount >>> 16);
    w16(50, gd.itableUnused >>> 16);
    w32(52, Math.floor(gd.excludeBitmap / HI));
    w16(56, gd.blockBitmapCsum >>> 16);
    w16(58, gd.inodeBitmapCsum >>> 16);
  }
  return bytes;
}
