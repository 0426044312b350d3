/**
 * Passes bytes through unchanged and counts them: the length of a stream
 * without holding it.
 *
 * @example Usage
 * ```ts
 * import { ByteCountStream } from "@bigfile/blockdev";
 * const counter = new ByteCountStream();
 * await ReadableStream.from([new Uint8Array(3)]).pipeThrough(counter).pipeTo(new WritableStream());
 * counter.bytes; // 3
 * ```
 */
export class ByteCountStream extends TransformStream<Uint8Array, Uint8Array> {
  #bytes = 0;
  constructor() {
    let self: ByteCountStream | undefined;
    super({
      transform(chunk, controller) {
        if (self) self.#bytes += chunk.length;
        controller.enqueue(chunk);
      },
    });
    self = this;
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.#bytes;
  }
}

/** Counts the bytes of a source by reading it to the end (nothing is kept). */
export async function measureLength(source: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of source) n += chunk.length;
  return n;
}
