/**
 * Re-blocks a byte stream into chunks of exactly `size` bytes (the last may be
 * shorter): sectors, filesystem blocks or large I/O units. Chunks that already
 * have the right size pass through without copying.
 *
 * @example Usage
 * ```ts
 * import { FixedChunkStream } from "@bigfile/blockdev";
 * const sectors = ReadableStream.from([new Uint8Array(700)]).pipeThrough(new FixedChunkStream(512));
 * ```
 */
export class FixedChunkStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new RangeError(
        `Cannot re-block into chunks of ${size} bytes: expected a positive integer`,
      );
    }
    let pending: Uint8Array | undefined;
    let filled = 0;
    super({
      transform(chunk, controller) {
        let at = 0;
        if (pending) {
          const take = Math.min(size - filled, chunk.length);
          pending.set(chunk.subarray(0, take), filled);
          filled += take;
          at = take;
          if (filled < size) return;
          controller.enqueue(pending);
          pending = undefined;
          filled = 0;
        }
        while (chunk.length - at >= size) {
          controller.enqueue(chunk.subarray(at, at + size));
          at += size;
        }
        if (at < chunk.length) {
          pending = new Uint8Array(size);
          pending.set(chunk.subarray(at));
          filled = chunk.length - at;
        }
      },
      flush(controller) {
        if (pending) controller.enqueue(pending.subarray(0, filled));
      },
    });
  }
}
