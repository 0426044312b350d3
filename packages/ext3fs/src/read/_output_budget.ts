import type { FilesystemReader } from "./filesystem_reader.ts";

const RO_COMPAT_SHARED_BLOCKS = 0x4000;

/**
 * How many bytes of file data one command may still emit. A sound
 * filesystem stores each block once, so what all its files hold together
 * fits in the image; a damaged one can map the same blocks into many files,
 * and that must not turn a small image into a huge output. Files that would
 * go past the budget are damage (their blocks are mapped elsewhere too).
 */
export class OutputBudget {
  #left: number;
  constructor(fs: FilesystemReader) {
    const image = fs.superblock.blocksCount * fs.blockSize;
    // shared_blocks lets files share blocks on purpose: allow some slack.
    this.#left = fs.superblock.featureRoCompat & RO_COMPAT_SHARED_BLOCKS ? 4 * image : image;
  }

  /** Takes `bytes` from the budget; false (and nothing taken) when they do not fit. */
  take(bytes: number): boolean {
    if (bytes > this.#left) return false;
    this.#left -= bytes;
    return true;
  }
}

/** The reason given for a file refused by {@linkcode OutputBudget}. */
export function overBudget(stored: number): string {
  return `its ${stored} stored bytes would take the output past the size of the whole filesystem (its blocks are mapped by other files too); skipped as damage`;
}
