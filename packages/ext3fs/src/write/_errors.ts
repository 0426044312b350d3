/** The errors of planning a filesystem, one constructor per refusal. */
import { maxMappedBlocks } from "./_block_map.ts";
import { ExtLimitError } from "./errors.ts";
import type { Geometry } from "./geometry.ts";

function fileSizeLimit(bs: number): number {
  return Math.min(maxMappedBlocks(bs / 4) * bs, 2 ** 41 - bs);
}

export function fileSizeError(path: string, size: number, bs: number): ExtLimitError {
  return new ExtLimitError(
    `Cannot store ${path}: ${size} bytes is over the ${fileSizeLimit(bs)} bytes a block map of ${bs}-byte blocks can address`,
  );
}

/** The error for a file of `size` bytes at a block size, if it is too big. */
export function fileSizeCheck(
  size: number,
  bs: number,
  path: () => string,
): ExtLimitError | undefined {
  return size > fileSizeLimit(bs) ? fileSizeError(path(), size, bs) : undefined;
}

/** The error for a symlink target of `length` bytes at a block size, if it cannot be stored. */
export function symlinkCheck(length: number, bs: number): ExtLimitError | undefined {
  if (length === 0) return new ExtLimitError(`Cannot store a symlink with an empty target`);
  if (length >= 60 && length >= bs)
    return new ExtLimitError(
      `Cannot store a symlink target of ${length} bytes in ${bs}-byte blocks`,
    );
  return undefined;
}

/** The error for a tree that needs more data blocks than the filesystem has. */
export function blocksError(need: number, geo: Geometry, have: number): ExtLimitError {
  return new ExtLimitError(
    `Cannot fit the tree: it needs ${need} data blocks of ${geo.blockSize} bytes (with the journal and block maps), the filesystem has ${have} after its metadata`,
  );
}

/** The error for a tree that needs more inodes than the filesystem has. */
export function inodesError(lastIno: number, geo: Geometry): ExtLimitError {
  return new ExtLimitError(
    `Cannot fit the tree: it needs ${lastIno - 10} inodes (plus 10 reserved), the filesystem has ${geo.inodesCount}`,
  );
}

/** The error for an entry name over 255 bytes. */
export function nameError(path: string, length: number): ExtLimitError {
  return new ExtLimitError(`Cannot store ${path}: the name is ${length} bytes, at most 255`);
}

/** The error for a file with too many hard links. */
export function linksError(count: number): ExtLimitError {
  return new ExtLimitError(`Cannot store a file with ${count} hard links: ext3 allows 65000`);
}

/** The error for a file of 2 GiB or more on a filesystem without large_file. */
export function largeFileError(path: string, size: number): ExtLimitError {
  return new ExtLimitError(
    `Cannot store ${path}: ${size} bytes needs the large_file feature (keep it: do not give -O ^large_file)`,
  );
}

/** Files of this size and up need large_file. */
export const LARGE_FILE_BYTES = 2 ** 31;
