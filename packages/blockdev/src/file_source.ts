import { readSync } from "node:fs";
import { open } from "node:fs/promises";
import { dataRegions } from "./data_regions.ts";
import { zeros } from "./zeros.ts";

/** Options for {@linkcode readFile} and {@linkcode readFd}. */
export interface SourceOptions {
  /** Bytes per chunk. @default 1 MiB for files, 128 KiB for descriptors */
  chunkSize?: number;
  /** First byte to read (files only). @default 0 */
  offset?: number;
  /** How many bytes to read at most. @default to the end */
  length?: number;
  /**
   * Read every chunk into one reused buffer: each chunk is valid only until
   * the next is requested. Saves the page faults of fresh megabyte buffers
   * (copying 4 GiB otherwise costs a million of them). @default false
   */
  reuseBuffer?: boolean;
  /**
   * Files only: ask the kernel where the data is (lseek SEEK_DATA,
   * {@linkcode dataRegions}) and give holes as views of the shared zero
   * buffer without reading them, which sparse sinks skip. Where the kernel
   * cannot say, the file is read whole. @default false
   */
  seekData?: boolean;
}

/**
 * Reads a file as a sequence of chunks: the start of every pipeline that has
 * an image on disk. Each chunk is a fresh buffer the consumer may keep.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { readFile } from "@bigfile/blockdev/node";
 * await writeFile("big.img", new Uint8Array(65536).fill(9));
 * let bytes = 0;
 * for await (const chunk of readFile("big.img", { offset: 32256, length: 1024 })) bytes += chunk.length;
 * assert.equal(bytes, 1024);
 * ```
 */
export async function* readFile(
  path: string,
  options: SourceOptions = {},
): AsyncGenerator<Uint8Array> {
  const chunkSize = options.chunkSize ?? 1 << 20;
  const handle = await open(path, "r");
  try {
    let position = options.offset ?? 0;
    let left = options.length ?? Number.POSITIVE_INFINITY;
    const shared = options.reuseBuffer ? new Uint8Array(chunkSize) : undefined;
    if (options.seekData) {
      const end = Math.min(position + left, (await handle.stat()).size);
      const regions = end > position ? dataRegions(handle.fd, position, end) : undefined;
      // Holes as shared zeros, data read below (a hole is at most a region's length).
      for (let i = 0; regions && i <= regions.length; i += 2) {
        const next = i < regions.length ? (regions[i] as number) : end;
        for (; position < next; position += Math.min(1 << 20, next - position)) {
          yield zeros(Math.min(1 << 20, next - position));
        }
        if (i === regions.length) return;
        // Synchronous reads, as cat does: a thread-pool hop per chunk costs
        // more than copying from the page cache.
        for (const stop = position + (regions[i + 1] as number); position < stop; ) {
          const size = Math.min(chunkSize, stop - position);
          const buffer = shared ? shared.subarray(0, size) : new Uint8Array(size);
          let filled = 0;
          while (filled < size) {
            const n = readSync(handle.fd, buffer, filled, size - filled, position + filled);
            if (n === 0) return; // the file shrank: it ends here
            filled += n;
          }
          position += size;
          yield buffer;
        }
      }
    }
    while (left > 0) {
      const size = Math.min(chunkSize, left);
      const buffer = shared ? shared.subarray(0, size) : new Uint8Array(size);
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(
          buffer,
          filled,
          buffer.length - filled,
          position + filled,
        );
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled === 0) return;
      position += filled;
      left -= filled;
      yield filled === buffer.length ? buffer : buffer.subarray(0, filled);
      if (filled < buffer.length) return;
    }
  } finally {
    await handle.close();
  }
}

const waitCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Reads an open descriptor (standard input) to its end in full chunks, with
 * blocking reads as `cat` does: fast on pipes, where asynchronous reads would
 * cost a thread hop per 64 KiB.
 */
export async function* readFd(fd: number, options: SourceOptions = {}): AsyncGenerator<Uint8Array> {
  // 128 KiB, as cat uses: few calls, and the buffer stays in cache.
  const chunkSize = options.chunkSize ?? 128 << 10;
  let left = options.length ?? Number.POSITIVE_INFINITY;
  const shared = options.reuseBuffer ? new Uint8Array(chunkSize) : undefined;
  while (left > 0) {
    const size = Math.min(chunkSize, left);
    const buffer = shared ? shared.subarray(0, size) : new Uint8Array(size);
    let filled = 0;
    let ended = false;
    while (filled < buffer.length) {
      let n: number;
      try {
        n = readSync(fd, buffer, filled, buffer.length - filled, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EAGAIN") {
          if (filled > 0) break;
          Atomics.wait(waitCell, 0, 0, 0.2);
          continue;
        }
        if (code === "EOF") n = 0;
        else throw error;
      }
      if (n === 0) {
        ended = true;
        break;
      }
      filled += n;
    }
    if (filled > 0) {
      left -= filled;
      yield filled === buffer.length ? buffer : buffer.subarray(0, filled);
    }
    if (ended) return;
    // Let other work (timers, progress) run between chunks.
    await Promise.resolve();
  }
}
