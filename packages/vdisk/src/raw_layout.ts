import { zeros } from "@bigfile/blockdev";
import type { RawImage } from "./image_sink.ts";

/** One run of bytes in a {@linkcode rawLayout}. */
export interface RawPart {
  /** Where the part starts in the disk, in bytes. */
  offset: number;
  /** Its bytes: a buffer, or a stream (a filesystem being written, a partition image). */
  data: Uint8Array | AsyncIterable<Uint8Array>;
  /** Its length in bytes, when `data` is a stream: checked as it flows. */
  length?: number;
}

/**
 * A raw disk image described as parts at offsets with zeros elsewhere (a
 * partition table at 0, a filesystem streamed at 32256): what a disk builder
 * hands a writer without a raw intermediate file. The zeros between parts are
 * views of one shared buffer, which writers leave unallocated. Parts must be
 * in order, must not overlap and must end within `size`.
 *
 * @example The seed's disk as qcow2, without writing the raw image
 * ```ts
 * import assert from "node:assert/strict";
 * import { rawLayout, writeImage } from "@bigfile/vdisk";
 * import { writeImageFile } from "@bigfile/vdisk/node";
 * const mbr = new Uint8Array(512); // what mbr wrap writes in sector 0
 * mbr.set([0x55, 0xaa], 510);
 * const ext3 = ReadableStream.from([new Uint8Array(8 << 20).fill(1)]); // what ext3fs mkfs streams (here 8 MiB)
 * // the seed's: rawLayout(4141875200, [..., { offset: 32256, data: ext3, length: 4040316 * 1024 }])
 * const image = rawLayout(16 << 20, [
 *   { offset: 0, data: mbr },
 *   { offset: 32256, data: ext3, length: 8 << 20 },
 * ]);
 * const result = await writeImageFile("big.qcow2", (sink) => writeImage(image, "qcow2", sink));
 * assert.equal(result.virtualSize, 16 << 20);
 * ```
 */
export function rawLayout(size: number, parts: readonly RawPart[]): RawImage {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`Cannot lay out a disk of ${size} bytes: expected a non-negative integer`);
  }
  let end = 0;
  for (const part of parts) {
    const length = part.data instanceof Uint8Array ? part.data.length : part.length;
    if (!Number.isSafeInteger(part.offset) || part.offset < end) {
      throw new RangeError(
        `Cannot lay out a part at ${part.offset}: parts must be in order and not overlap (the previous one ends at ${end})`,
      );
    }
    end = part.offset + (length ?? 0);
    if (end > size) {
      throw new RangeError(`Cannot lay out a part ending at ${end}: the disk is ${size} bytes`);
    }
  }
  return { size, data: layoutChunks(size, parts) };
}

function* zeroRun(length: number): Generator<Uint8Array> {
  for (let left = length; left > 0; left -= 1 << 20) yield zeros(Math.min(left, 1 << 20));
}

async function* layoutChunks(size: number, parts: readonly RawPart[]): AsyncGenerator<Uint8Array> {
  let position = 0;
  for (const part of parts) {
    yield* zeroRun(part.offset - position);
    position = part.offset;
    const limit =
      part.data instanceof Uint8Array ? part.data.length : (part.length ?? size - position);
    const source = part.data instanceof Uint8Array ? [part.data] : part.data;
    let written = 0;
    for await (const chunk of source) {
      written += chunk.length;
      if (written > limit || position + chunk.length > size) {
        throw new RangeError(
          `Cannot lay out the part at ${part.offset}: it holds more than its ${limit} bytes`,
        );
      }
      yield chunk;
      position += chunk.length;
    }
    if (part.length !== undefined && written !== part.length) {
      throw new RangeError(
        `Cannot lay out the part at ${part.offset}: it ended after ${written} bytes, expected ${part.length}`,
      );
    }
  }
  yield* zeroRun(size - position);
}
