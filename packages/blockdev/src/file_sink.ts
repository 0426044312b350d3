import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { ByteSource } from "./concat_streams.ts";
import type { CopyPool } from "./copy_pool.ts";
import type { ImagePlacement } from "./image_placement.ts";
import { isZero, isZeroRange, zeros } from "./zeros.ts";

const SHARED_ZEROS = zeros(0).buffer;

/** Options for {@linkcode writeToFile} and {@linkcode writeToFd}. */
export interface SinkOptions {
  /** Skip runs of zero blocks by seeking, leaving holes. @default true */
  sparse?: boolean;
  /** Granularity of hole detection, in bytes. @default 4096 */
  holeBlockSize?: number;
  /**
   * Called before the first chunk is pulled when the sink writes by position
   * and leaves zero blocks as holes: it never writes a block of `holeBlockSize`
   * that is all zeros in the stream, so the source may fill such blocks itself
   * (with a {@linkcode CopyPool} attached to `fd` at `offset`), provided it
   * finishes before its stream ends.
   */
  onSparseTarget?: (target: SparseTarget) => void;
}

/** The file a positional sink writes, as {@linkcode SinkOptions.onSparseTarget} hands it on. */
export interface SparseTarget {
  fd: number;
  /** Where the stream's first byte goes (in the image, when there is a `placement`). */
  offset: number;
  holeBlockSize: number;
  /** The sink's {@linkcode FdSinkOptions.placement}: write through it too. */
  placement?: ImagePlacement | undefined;
}

/** What a sink wrote. */
export interface SinkResult {
  /** Length of the output in bytes. */
  bytes: number;
  /** Bytes actually written (the rest are holes). */
  dataBytes: number;
}

/**
 * Writes a byte source into a regular file at position 0, skipping zero blocks
 * (holes) and setting the final size, so a 4 GB mostly-empty image costs only
 * its data on disk. Nothing is ever left half-written: a new `path` is written
 * in place and removed if the source fails; an existing `path` is replaced
 * atomically through a temporary file beside it, untouched on failure.
 * (Writing a new file in place also spares ext4's flush on a rename over a
 * file, which costs a noticeable fraction of a second for big images.)
 *
 * @example Usage
 * ```ts
 * import { zeroStream } from "@bigfile/blockdev";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * await writeToFile(zeroStream(4141875200), "big.img"); // allocates nothing
 * ```
 */
export async function writeToFile(
  source: ByteSource,
  path: string,
  options: SinkOptions = {},
): Promise<SinkResult> {
  return writeFileAtomically(path, (fd) => writeToFd(source, fd, { ...options, positional: true }));
}

/**
 * Runs `write` on a new, empty file descriptor for `path` and never leaves a
 * half-written file: a new `path` is written in place (sparing ext4's flush on
 * a rename over a file) and removed if `write` fails; an existing `path` is
 * replaced through a temporary file beside it only once `write` succeeded,
 * and stays untouched otherwise. The descriptor is closed before returning.
 *
 * @example A file written by position
 * ```ts
 * import { writeSync } from "node:fs";
 * import { writeFileAtomically } from "@bigfile/blockdev/node";
 * await writeFileAtomically("disk.img", async (fd) => {
 *   writeSync(fd, new Uint8Array([0x55, 0xaa]), 0, 2, 510);
 * });
 * ```
 */
export async function writeFileAtomically<T>(
  path: string,
  write: (fd: number) => Promise<T>,
): Promise<T> {
  let fd: number;
  let temp: string | undefined;
  try {
    fd = openSync(path, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
    fd = openSync(temp, "wx", 0o644);
  }
  try {
    const result = await write(fd);
    closeSync(fd);
    fd = -1;
    if (temp) await rename(temp, path);
    return result;
  } catch (error) {
    if (fd >= 0) {
      try {
        closeSync(fd);
      } catch {}
    }
    await rm(temp ?? path, { force: true });
    throw error;
  }
}

/** Options for {@linkcode writeToFd}. */
export interface FdSinkOptions extends SinkOptions {
  /**
   * Write with positions from `offset` and truncate to the final size (a
   * regular file). @default decided from fstat: a regular file that is empty
   */
  positional?: boolean;
  /** With `positional`: where the first byte goes (appending to a spool file). @default 0 */
  offset?: number;
  /**
   * With `positional`: positions are in an image laid out in the file by
   * this placement (zero blocks are not placed), and the file's size is the
   * placement's business, not set here.
   */
  placement?: ImagePlacement;
}

/**
 * Writes a byte source to an open file descriptor. For an empty regular file
 * (`tool > out.img`) zero blocks become holes; for a pipe, a terminal or a file
 * opened for appending, every byte is written in order, with synchronous
 * writes that block as `cat` does (a non-blocking pipe is waited on). Each
 * chunk is written before the next is pulled, so sources may reuse one buffer.
 */
export async function writeToFd(
  source: ByteSource,
  fd: number,
  options: FdSinkOptions = {},
): Promise<SinkResult> {
  const positional = options.positional ?? canWriteSparse(fd);
  const sparse = positional && (options.sparse ?? true);
  const block = options.holeBlockSize ?? 4096;
  const start = positional ? (options.offset ?? 0) : 0;
  let position = start;
  let dataBytes = 0;
  const placement = positional ? options.placement : undefined;
  if (placement && !sparse) throw new TypeError("writeToFd: a placement needs sparse writes");
  if (sparse) options.onSparseTarget?.({ fd, offset: start, holeBlockSize: block, placement });
  for await (const chunk of source) {
    if (!positional) {
      writeAllSync(fd, chunk, null);
      dataBytes += chunk.length;
    } else if (!sparse) {
      writeAllSync(fd, chunk, position);
      dataBytes += chunk.length;
    } else if (chunk.buffer === SHARED_ZEROS || isZero(chunk)) {
      // A view of the shared zero buffer, or a whole chunk of zeros: a hole.
    } else dataBytes += writeNonZeroBlocks(fd, chunk, position, block, placement);
    position += chunk.length;
  }
  if (positional && !placement) ftruncateSync(fd, position);
  return { bytes: position - start, dataBytes };
}

/**
 * Writes `bytes` at `position` of `fd` except its blocks of zeros (counted
 * from the start of `bytes`, `blockSize` each; the last may be shorter),
 * which keep what the file has there: holes in a file that starts empty.
 * Runs of data blocks go in one write each (one per placed range, with a
 * `placement`: then `position` is in the image). Returns the bytes written.
 */
export function writeNonZeroBlocks(
  fd: number,
  bytes: Uint8Array,
  position: number,
  blockSize: number,
  placement?: ImagePlacement,
): number {
  const write = (from: number, to: number): void => {
    if (!placement) {
      writeAllSync(fd, bytes.subarray(from, to), position + from);
      return;
    }
    const ranges = placement.place(position + from, to - from);
    for (let i = 0, at = from; i < ranges.length; i += 2) {
      const length = ranges[i + 1] as number;
      writeAllSync(fd, bytes.subarray(at, at + length), ranges[i] as number);
      at += length;
    }
  };
  let written = 0;
  let runStart = -1;
  for (let at = 0; at < bytes.length; at += blockSize) {
    const end = Math.min(at + blockSize, bytes.length);
    const zero = isZeroRange(bytes, at, end);
    if (!zero && runStart < 0) runStart = at;
    if (zero && runStart >= 0) {
      write(runStart, at);
      written += at - runStart;
      runStart = -1;
    }
  }
  if (runStart >= 0) {
    write(runStart, bytes.length);
    written += bytes.length - runStart;
  }
  return written;
}

/**
 * Whether `fd` is an empty regular file open without O_APPEND, where
 * positional sparse writes are safe. (`>> file` opens with O_APPEND, under
 * which Linux appends every positional write: such a file is written in
 * order, like a pipe.)
 */
export function canWriteSparse(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFile() && stat.size === 0 && !isAppendOnly(fd);
  } catch {
    return false;
  }
}

/** O_APPEND, as Linux spells it in /proc/self/fdinfo (octal flags). */
const O_APPEND = 0o2000;

/**
 * Whether `fd` was opened with O_APPEND: read from /proc/self/fdinfo on
 * Linux (Node has no fcntl); false where that cannot be read.
 */
function isAppendOnly(fd: number): boolean {
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, "latin1");
    const flags = /^flags:\s*([0-7]+)/m.exec(info)?.[1];
    return flags !== undefined && (Number.parseInt(flags, 8) & O_APPEND) !== 0;
  } catch {
    return false;
  }
}

const waitCell = new Int32Array(new SharedArrayBuffer(4));

function writeAllSync(fd: number, data: Uint8Array, position: number | null): void {
  let done = 0;
  while (done < data.length) {
    try {
      done += writeSync(
        fd,
        data,
        done,
        data.length - done,
        position === null ? null : position + done,
      );
    } catch (error) {
      // A pipe someone made non-blocking: wait a moment for the reader.
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      Atomics.wait(waitCell, 0, 0, 0.2);
    }
  }
}
