/** A stream ended before the bytes a reader needed; `offset` is where it ended. */
export class UnexpectedEndError extends RangeError {
  readonly offset: number;
  readonly needed: number;
  constructor(offset: number, needed: number, got: number) {
    super(`Cannot read ${needed} bytes at offset ${offset}: the stream ended after ${got}`);
    this.name = "UnexpectedEndError";
    this.offset = offset;
    this.needed = needed;
  }
}

/**
 * Pulls exact byte counts from a byte stream or async iterable, for parsers of
 * headers followed by payloads (tar members, sector 0 then the rest).
 *
 * @example Usage
 * ```ts
 * import { ExactReader } from "@bigfile/blockdev";
 * const reader = new ExactReader(ReadableStream.from([new Uint8Array(1024)]));
 * const sector0 = await reader.readExactly(512);
 * for await (const chunk of reader.rest()) {}
 * ```
 */
export class ExactReader {
  #it: AsyncIterator<Uint8Array>;
  #buffered: Uint8Array[] = [];
  #bufferedBytes = 0;
  #done = false;
  #position = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.#position;
  }

  async #fill(n: number): Promise<void> {
    while (this.#bufferedBytes < n && !this.#done) {
      const next = await this.#it.next();
      if (next.done) this.#done = true;
      else if (next.value.length > 0) {
        this.#buffered.push(next.value);
        this.#bufferedBytes += next.value.length;
      }
    }
  }

  #take(n: number): Uint8Array {
    const first = this.#buffered[0];
    let out: Uint8Array;
    if (first && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#buffered.shift();
      else this.#buffered[0] = first.subarray(n);
    } else {
      out = new Uint8Array(n);
      let at = 0;
      while (at < n) {
        const head = this.#buffered[0] as Uint8Array;
        const take = Math.min(head.length, n - at);
        out.set(head.subarray(0, take), at);
        at += take;
        if (take === head.length) this.#buffered.shift();
        else this.#buffered[0] = head.subarray(take);
      }
    }
    this.#bufferedBytes -= n;
    this.#position += n;
    return out;
  }

  /** Exactly `n` bytes, or {@linkcode UnexpectedEndError}. */
  async readExactly(n: number): Promise<Uint8Array> {
    await this.#fill(n);
    if (this.#bufferedBytes < n)
      throw new UnexpectedEndError(this.#position, n, this.#bufferedBytes);
    return this.#take(n);
  }

  /** Up to `n` bytes; fewer only at the end of the stream, empty at its end. */
  async readUpTo(n: number): Promise<Uint8Array> {
    await this.#fill(1);
    const first = this.#buffered[0];
    if (!first) return new Uint8Array(0);
    return this.#take(Math.min(n, first.length));
  }

  /** Skips exactly `n` bytes, or throws {@linkcode UnexpectedEndError}. */
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const chunk = await this.readUpTo(Math.min(left, 1 << 20));
      if (chunk.length === 0) throw new UnexpectedEndError(this.#position, left, 0);
      left -= chunk.length;
    }
  }

  /** Whether the stream has no more bytes. */
  async atEnd(): Promise<boolean> {
    await this.#fill(1);
    return this.#bufferedBytes === 0;
  }

  /** The remaining bytes, as they come. */
  async *rest(): AsyncGenerator<Uint8Array> {
    while (this.#buffered.length > 0) {
      const chunk = this.#buffered.shift() as Uint8Array;
      this.#bufferedBytes -= chunk.length;
      this.#position += chunk.length;
      yield chunk;
    }
    while (!this.#done) {
      const next = await this.#it.next();
      if (next.done) this.#done = true;
      else {
        this.#position += next.value.length;
        yield next.value;
      }
    }
  }

  /** Up to `n` bytes as they come, ending early only at the end of the stream. */
  async *take(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      const chunk = await this.readUpTo(Math.min(left, 1 << 20));
      if (chunk.length === 0) return;
      left -= chunk.length;
      yield chunk;
    }
  }
}
