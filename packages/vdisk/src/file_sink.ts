import { ftruncateSync, writeSync } from "node:fs";
import { basename } from "node:path";
import { isZero, zeros } from "@bigfile/blockdev";
import { canWriteSparse, writeFileAtomically, writeNonZeroBlocks } from "@bigfile/blockdev/node";
import { nodeCodecs } from "./_node_zlib.ts";
import type { ImageFormat } from "./image_device.ts";
import type { ImageSink, RawImage, WriteResult } from "./image_sink.ts";
import { canStream, type WriteImageOptions, writeImage } from "./write_image.ts";

/**
 * An {@linkcode ImageSink} over an open file descriptor. An empty regular file
 * (not opened to append) is seekable and gets holes wherever zeros are
 * written (or nothing is); any other descriptor (a pipe, `>> file`) is
 * written strictly in order, gaps as zeros.
 *
 * @example Standard output
 * ```ts
 * import { FdSink } from "@bigfile/vdisk/node";
 * const sink = new FdSink(1);
 * sink.seekable; // true for `> file`, false for `| cat`
 * ```
 */
export class FdSink implements ImageSink {
  readonly seekable: boolean;
  readonly fd: number;
  #position = 0;
  constructor(fd: number) {
    this.fd = fd;
    this.seekable = canWriteSparse(fd);
  }

  write(position: number, bytes: Uint8Array): Promise<void> {
    if (this.seekable) {
      if (!isZero(bytes)) writeNonZeroBlocks(this.fd, bytes, position, 4096);
      return Promise.resolve();
    }
    if (position < this.#position) {
      return Promise.reject(
        new RangeError(`Cannot write at ${position}: the stream is already at ${this.#position}`),
      );
    }
    this.#fill(position);
    writeAll(this.fd, bytes);
    this.#position += bytes.length;
    return Promise.resolve();
  }

  end(size: number): Promise<void> {
    if (this.seekable) ftruncateSync(this.fd, size);
    else this.#fill(size);
    return Promise.resolve();
  }

  #fill(position: number): void {
    while (this.#position < position) {
      const run = zeros(Math.min(1 << 20, position - this.#position));
      writeAll(this.fd, run);
      this.#position += run.length;
    }
  }
}

const waitCell = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) {
    try {
      done += writeSync(fd, data, done, data.length - done, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      Atomics.wait(waitCell, 0, 0, 0.2);
    }
  }
}

/**
 * Runs `write` on a seekable sink over `path`, atomically: a new file is
 * written in place and removed on failure; an existing one is replaced
 * through a temporary file beside it and left untouched on failure.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { readFile } from "@bigfile/blockdev/node";
 * import { writeQcow2 } from "@bigfile/vdisk";
 * import { writeImageFile } from "@bigfile/vdisk/node";
 * const raw = new Uint8Array(4 << 20); // a 4 MiB disk: a boot signature and zeros
 * raw.set([0x55, 0xaa], 510);
 * await writeFile("big.img", raw);
 * const result = await writeImageFile("disk.qcow2", (sink) => writeQcow2({ size: 4 << 20, data: readFile("big.img") }, sink));
 * assert.equal(result.virtualSize, 4 << 20);
 * ```
 */
export async function writeImageFile<T>(
  path: string,
  write: (sink: FdSink) => Promise<T>,
): Promise<T> {
  return writeFileAtomically(path, (fd) => write(new FdSink(fd)));
}

/**
 * Writes a raw image in `format` to `target`: a path (written atomically; a
 * VMDK's descriptor names it) or an open descriptor such as 1 for standard
 * output (holes in an empty regular file, every byte in order on a pipe).
 * Throws a `TypeError` before consuming the image when the format cannot go
 * through that pipe (see {@linkcode canStream}). Compression uses Node's zlib
 * (`nodeCodecs`) unless `options.codecs` says otherwise.
 *
 * @example `bigfile build --format qcow2 -o big.qcow2`
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileDevice } from "@bigfile/blockdev/node";
 * import { openImage, rawLayout } from "@bigfile/vdisk";
 * import { writeImageTo } from "@bigfile/vdisk/node";
 * const mbr = new Uint8Array(512);
 * mbr.set([0x55, 0xaa], 510);
 * const ext3 = ReadableStream.from([new Uint8Array(1 << 20).fill(3)]); // any async iterable of chunks: a filesystem stream
 * const image = rawLayout(4 << 20, [
 *   { offset: 0, data: mbr },
 *   { offset: 32256, data: ext3, length: 1 << 20 },
 * ]);
 * await writeImageTo(image, "qcow2", "big.qcow2"); // or a file descriptor: 1 for standard output
 * const disk = await openImage(await FileDevice.open("big.qcow2", { readOnly: true }));
 * assert.deepEqual([...(await disk.read(32256, 2))], [3, 3]);
 * await disk.close();
 * ```
 */
export async function writeImageTo(
  image: RawImage,
  format: ImageFormat,
  target: string | number,
  given: WriteImageOptions = {},
): Promise<WriteResult> {
  const options = { ...given, codecs: { ...nodeCodecs, ...given.codecs } };
  if (typeof target === "string") {
    const named = format === "vmdk" || format === "vmdk-stream";
    const withName =
      named && options.extentName === undefined
        ? { ...options, extentName: basename(target) }
        : options;
    return writeImageFile(target, (sink) => writeImage(image, format, sink, withName));
  }
  const sink = new FdSink(target);
  if (!sink.seekable && !canStream(image, format, options)) {
    throw new TypeError(
      `Cannot write ${format} to a pipe${format === "qcow2" && options.compress ? " compressed" : " without knowing where the data is up front"}: write to a file`,
    );
  }
  return writeImage(image, format, sink, options);
}
