/**
 * Passes only bytes `[start, end)` of a stream: a partition out of a disk
 * image. Throws a `RangeError` in the constructor for a range that cannot be.
 *
 * @example Usage
 * ```ts
 * import { ByteRangeStream } from "@bigfile/blockdev";
 * const part = ReadableStream.from([new Uint8Array(4096)]).pipeThrough(new ByteRangeStream(512, 1024));
 * ```
 */
export class ByteRangeStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(start: number, end: number = Number.POSITIVE_INFINITY) {
    if (!Number.isSafeInteger(start) || start < 0 || !(end >= start)) {
      throw new RangeError(`Cannot take bytes ${start} to ${end}: expected 0 <= start <= end`);
    }
    let offset = 0;
    super({
      transform(chunk, controller) {
        const chunkStart = offset;
        offset += chunk.length;
        if (offset <= start || chunkStart >= end) {
          if (chunkStart >= end) controller.terminate();
          return;
        }
        const from = Math.max(start - chunkStart, 0);
        const to = Math.min(end - chunkStart, chunk.length);
        controller.enqueue(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
        if (offset >= end) controller.terminate();
      },
    });
  }
}
