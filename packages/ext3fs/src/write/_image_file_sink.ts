import { closeSync, ftruncateSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { zeros } from "@bigfile/blockdev";

const ZERO_BUFFER = zeros(1).buffer;
const HOLE_BLOCK = 4096;

/** Whether `bytes` is all zero: memcmp against the shared zero buffer. */
function zeroBlock(bytes: Uint8Array): boolean {
  return Buffer.compare(bytes, zeros(bytes.length)) === 0;
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  for (let done = 0; done < data.length; )
    done += writeSync(fd, data, done, data.length - done, position + done);
}

function writeSparse(fd: number, chunk: Uint8Array, position: number): number {
  let written = 0;
  let runStart = -1;
  for (let at = 0; at < chunk.length; at += HOLE_BLOCK) {
    const zero = zeroBlock(chunk.subarray(at, Math.min(at + HOLE_BLOCK, chunk.length)));
    if (!zero && runStart < 0) runStart = at;
    else if (zero && runStart >= 0) {
      writeAll(fd, chunk.subarray(runStart, at), position + runStart);
      written += at - runStart;
      runStart = -1;
    }
  }
  if (runStart >= 0) {
    writeAll(fd, chunk.subarray(runStart), position + runStart);
    written += chunk.length - runStart;
  }
  return written;
}

async function fill(
  source: AsyncIterable<Uint8Array>,
  fd: number,
): Promise<{ bytes: number; dataBytes: number }> {
  let position = 0;
  let dataBytes = 0;
  for await (const chunk of source) {
    // Views of the shared zero buffer are holes without looking at them.
    if (chunk.buffer !== ZERO_BUFFER) dataBytes += writeSparse(fd, chunk, position);
    position += chunk.length;
  }
  ftruncateSync(fd, position);
  return { bytes: position, dataBytes };
}

/**
 * Writes an image to a regular file, sparse: chunks that are views of
 * blockdev's shared zero buffer are skipped unseen, other all-zero 4 KiB blocks
 * become holes too. A new file is written in place (removed on failure); an
 * existing one is replaced atomically through a temporary file beside it.
 * Writing in place spares the kernel's flush-on-rename-over-a-file (ext4
 * auto_da_alloc) and the freeing of the old file's blocks while we wait.
 */
export async function writeImageFile(
  source: AsyncIterable<Uint8Array>,
  path: string,
): Promise<{ bytes: number; dataBytes: number }> {
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
    const result = await fill(source, fd);
    closeSync(fd);
    fd = -1;
    if (temp) renameSync(temp, path);
    return result;
  } catch (error) {
    if (fd >= 0) closeSync(fd);
    rmSync(temp ?? path, { force: true });
    throw error;
  }
}
