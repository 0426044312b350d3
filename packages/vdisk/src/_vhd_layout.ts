// What writeVhd and the VHD placements share: the disk's size, the footer's
// ids, and where a dynamic VHD's table, bitmaps and blocks go.
import { alignUp } from "./_bytes.ts";
import { DEFAULT_BLOCK_SIZE, MAX_VHD_SIZE, VHD_EPOCH } from "./_vhd_format.ts";

/** A VHD's size: `size` rounded up to `alignment` (a multiple of 512), within the format's 2040 GiB. */
export function vhdDiskSize(size: number, alignment: number): number {
  if (!Number.isSafeInteger(alignment) || alignment < 512 || alignment % 512 !== 0) {
    throw new RangeError(`Cannot align a VHD to ${alignment} bytes: expected a multiple of 512`);
  }
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`Cannot write a VHD of ${size} bytes: expected a non-negative integer`);
  }
  const aligned = alignUp(size, alignment);
  if (aligned > MAX_VHD_SIZE) {
    throw new RangeError(`Cannot write a VHD of ${aligned} bytes: the format ends at 2040 GiB`);
  }
  return aligned;
}

/** The ids every footer of a VHD shares. */
export interface VhdIds {
  timestamp?: Date;
  uuid?: Uint8Array;
  creatorApp?: string;
}

/** The footer fields every VHD of `size` (aligned) bytes shares: id, time, creator. */
export function vhdFooterFields(size: number, ids: VhdIds) {
  const uuid = ids.uuid ?? crypto.getRandomValues(new Uint8Array(16));
  const seconds = Math.floor((ids.timestamp ?? new Date()).getTime() / 1000) - VHD_EPOCH;
  return { size, uuid, timestamp: Math.max(0, seconds), creatorApp: ids.creatorApp ?? "qem2" };
}

/** Where the parts of a dynamic VHD go in its file (byte offsets). */
export interface DynamicVhdLayout {
  blockSize: number;
  /** Block allocation table entries: one a block of the disk. */
  entries: number;
  /** The table, after the footer copy and the dynamic header. */
  batOffset: number;
  batBytes: number;
  bitmapBytes: number;
  /** The first block's sector bitmap; its data follows. */
  firstBlock: number;
}

/** The layout of a dynamic VHD of `size` (aligned) bytes with 2 MiB blocks. */
export function dynamicVhdLayout(size: number): DynamicVhdLayout {
  const blockSize = DEFAULT_BLOCK_SIZE;
  const entries = Math.ceil(size / blockSize);
  const batOffset = 512 + 1024;
  const batBytes = alignUp(entries * 4, 512);
  const bitmapBytes = alignUp(blockSize / 512 / 8, 512);
  // Data of each block on a 4 KiB boundary of the file: the bitmap sits just before it.
  const firstBlock = alignUp(batOffset + batBytes + bitmapBytes, 4096) - bitmapBytes;
  return { blockSize, entries, batOffset, batBytes, bitmapBytes, firstBlock };
}

/** Where the block after the one whose bitmap is at `at` goes. */
export function nextVhdBlock(layout: DynamicVhdLayout, at: number): number {
  const { bitmapBytes, blockSize } = layout;
  return alignUp(at + bitmapBytes + blockSize + bitmapBytes, 4096) - bitmapBytes;
}
