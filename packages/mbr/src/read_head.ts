/** The first bytes of a byte stream, held, and the whole stream again. */
export interface StreamHead {
  /**
   * The stream's first bytes: as many as asked for, fewer only when the
   * stream is shorter (empty for an empty stream). A copy the caller may keep.
   */
  head: Uint8Array;
  /** Every byte of the source in order, the held head first, then the rest as it comes. */
  stream: AsyncIterable<Uint8Array>;
  /** Ends the source without reading the rest (when `stream` will not be read to its end). */
  cancel(): Promise<void>;
}

/**
 * Reads the head of a forward-only byte stream (a partition image on a pipe)
 * without losing it: the head is copied out, and `stream` gives every byte
 * again, so a filter can look at a header before it decides how to pass the
 * whole image on. Only the head is held in memory. Safe with sources that
 * reuse one buffer for every chunk (`readFd(fd, { reuseBuffer: true })`): the
 * head is copied, and the rest of the chunk it ended in is passed on before
 * the next chunk is pulled.
 *
 * @param source the stream's chunks
 * @param bytes how many bytes to hold (a positive integer)
 * @returns the head, and the whole stream
 * @throws {RangeError} when `bytes` is not a positive safe integer
 *
 * @example Size a partition from its superblock, then wrap it
 * ```ts
 * import { readFd } from "@bigfile/blockdev/node";
 * import { PROBE_HEAD_BYTES, planWrap, probeFilesystemSize, readHead, wrapPartition } from "@bigfile/mbr";
 * const { head, stream } = await readHead(readFd(0), PROBE_HEAD_BYTES);
 * const fs = probeFilesystemSize(head); // { type: "ext4", bytes: 629145600 }
 * if (fs) {
 *   const plan = planWrap({ partitionSize: fs.bytes, align: "cylinder" });
 *   for await (const chunk of wrapPartition(stream, plan)) {}
 * }
 * ```
 */
export async function readHead(
  source: AsyncIterable<Uint8Array>,
  bytes: number,
): Promise<StreamHead> {
  if (!Number.isSafeInteger(bytes) || bytes < 1)
    throw new RangeError(`Cannot hold the head of a stream: ${bytes} is not a positive byte count`);
  const it = source[Symbol.asyncIterator]();
  const held = new Uint8Array(bytes);
  let filled = 0;
  let rest: Uint8Array | undefined;
  let ended = false;
  try {
    while (filled < bytes) {
      const next = await it.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk = next.value;
      const take = Math.min(chunk.length, bytes - filled);
      held.set(chunk.subarray(0, take), filled);
      filled += take;
      if (take < chunk.length) rest = chunk.subarray(take);
    }
  } catch (error) {
    await it.return?.();
    throw error;
  }
  const head = held.subarray(0, filled);
  let started = false;
  async function* all(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    if (rest) yield rest;
    rest = undefined;
    if (ended) return;
    // for await ends the source (its return()) when the consumer stops early.
    yield* { [Symbol.asyncIterator]: () => it };
  }
  return {
    head,
    stream: {
      [Symbol.asyncIterator]() {
        if (started) throw new TypeError("Cannot read a held stream twice");
        started = true;
        return all();
      },
    },
    async cancel() {
      started = true;
      if (ended) return;
      ended = true;
      await it.return?.();
    },
  };
}
