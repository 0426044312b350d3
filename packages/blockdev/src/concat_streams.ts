/** A byte source: a Web stream, any async or sync iterable of chunks. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * One stream of the sources' bytes in order; each source is opened only when
 * the previous one has ended, so lazy generators stay lazy.
 *
 * @example Usage
 * ```ts
 * import { concatStreams, zeroStream } from "@bigfile/blockdev";
 * const disk = concatStreams(ReadableStream.from([new Uint8Array(512)]), zeroStream(31744));
 * ```
 */
export function concatStreams(...sources: ByteSource[]): ReadableStream<Uint8Array> {
  async function* all(): AsyncGenerator<Uint8Array> {
    for (const source of sources) yield* source;
  }
  return iterableToStream(all());
}

/** A pull-based `ReadableStream` over an async iterable (Node 20 lacks `ReadableStream.from` typing). */
export function iterableToStream(source: ByteSource): ReadableStream<Uint8Array> {
  const it =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
      : (source as Iterable<Uint8Array>)[Symbol.iterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await it.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel(reason) {
        await it.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
