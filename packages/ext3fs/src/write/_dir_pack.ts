import { dirEntrySize } from "../format/dir_entry.ts";

/** One entry to write into a directory. */
export interface PlannedEntry {
  ino: number;
  fileType: number;
  name: Uint8Array;
}

/**
 * Packs entries into blocks of `blockSize` bytes in order: returns, for each
 * block, the index of its first entry (and the total block count is the
 * array's length). The first block must hold "." and "..".
 */
export function packDirectory(nameLengths: ArrayLike<number>, blockSize: number): number[] {
  const starts: number[] = [0];
  let used = 0;
  for (let i = 0; i < nameLengths.length; i++) {
    const size = dirEntrySize(nameLengths[i] as number);
    if (used + size > blockSize) {
      starts.push(i);
      used = 0;
    }
    used += size;
  }
  return starts;
}

/** Writes the directory block holding entries `[from, to)` (rec_len of the last one reaches the block end). */
export function writeDirBlock(
  entries: readonly PlannedEntry[],
  from: number,
  to: number,
  block: Uint8Array,
): void {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  let offset = 0;
  if (from >= to) {
    view.setUint32(0, 0, true);
    view.setUint16(4, block.length, true);
    return;
  }
  for (let i = from; i < to; i++) {
    const e = entries[i] as PlannedEntry;
    const size = i === to - 1 ? block.length - offset : dirEntrySize(e.name.length);
    view.setUint32(offset, e.ino, true);
    view.setUint16(offset + 4, size, true);
    block[offset + 6] = e.name.length;
    block[offset + 7] = e.fileType;
    block.set(e.name, offset + 8);
    offset += size;
  }
}
