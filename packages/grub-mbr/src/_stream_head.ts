import type { ByteReader } from "./_reader.ts";
import { GrubInstallError } from "./grub_install_error.ts";

/** Buffers the start of a stream on demand so it can be read at random. */
export class StreamHead implements ByteReader {
  readonly chunks: Uint8Array[] = [];
  buffered = 0;
  ended = false;
  readonly iterator: AsyncIterator<Uint8Array>;
  readonly limit: number;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, limit: number) {
    this.iterator =
      Symbol.asyncIterator in source
        ? source[Symbol.asyncIterator]()
        : (async function* () {
            yield* source;
          })();
    this.limit = limit;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = offset + length;
    if (end > this.limit) {
      throw new GrubInstallError(
        `the install needs bytes up to offset ${end}, beyond the ${this.limit} bytes held from a stream; install into a file with --in-place instead`,
        offset,
      );
    }
    while (this.buffered < end && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        // Held across reads: a copy, as the source may reuse its buffer.
        this.chunks.push(next.value.slice());
        this.buffered += next.value.length;
      }
    }
    if (this.buffered < end) {
      throw new GrubInstallError(
        `the image ends at byte ${this.buffered}, before offset ${end} that the install reads`,
        this.buffered,
      );
    }
    const out = new Uint8Array(length);
    let at = 0;
    for (const chunk of this.chunks) {
      const cEnd = at + chunk.length;
      if (cEnd > offset && at < end) {
        const from = Math.max(offset, at);
        const to = Math.min(end, cEnd);
        out.set(chunk.subarray(from - at, to - at), from - offset);
      }
      at = cEnd;
      if (at >= end) break;
    }
    return out;
  }
}
