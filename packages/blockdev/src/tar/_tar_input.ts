import { ExactReader, UnexpectedEndError } from "../exact_reader.ts";
import { TarSyntaxError } from "./tar_syntax_error.ts";

/**
 * The archive's bytes for the tar reader: an {@linkcode ExactReader} whose
 * "stream ended" errors become {@linkcode TarSyntaxError}s naming what was
 * being read, and which can close its source when reading stops early.
 */
export class TarInput {
  #iterator: AsyncIterator<Uint8Array>;
  #reader: ExactReader;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    const iterator =
      Symbol.asyncIterator in source
        ? source[Symbol.asyncIterator]()
        : fromSync(source[Symbol.iterator]());
    this.#iterator = iterator;
    const checked: AsyncIterator<Uint8Array> = {
      async next() {
        const result = await iterator.next();
        if (!result.done && !(result.value instanceof Uint8Array)) {
          throw new TypeError(
            `Cannot read tar archive: the source yielded ${typeof result.value === "string" ? "a string" : typeof result.value}, not bytes (Uint8Array)`,
          );
        }
        return result;
      },
    };
    this.#reader = new ExactReader({ [Symbol.asyncIterator]: () => checked });
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.#reader.position;
  }

  /** Whether the input has no more bytes. */
  atEnd(): Promise<boolean> {
    return this.#reader.atEnd();
  }

  /** Exactly `n` bytes of `what`. */
  async exactly(n: number, what: string): Promise<Uint8Array> {
    try {
      return await this.#reader.readExactly(n);
    } catch (error) {
      throw truncated(error, what);
    }
  }

  /** Skips exactly `n` bytes of `what`. */
  async skip(n: number, what: string): Promise<void> {
    try {
      await this.#reader.skip(n);
    } catch (error) {
      throw truncated(error, what);
    }
  }

  /** Between 1 and `n` bytes of `what` (`n` > 0), as they come. */
  async upTo(n: number, what: string): Promise<Uint8Array> {
    const chunk = await this.#reader.readUpTo(n);
    if (chunk.length === 0) {
      const at = this.#reader.position;
      throw new TarSyntaxError(
        `Cannot read tar archive: it ends at offset ${at} inside ${what} (${n} or more bytes expected)`,
        at,
      );
    }
    return chunk;
  }

  /** Reads and discards up to `limit` bytes, fewer when the input ends. */
  async drain(limit: number): Promise<void> {
    for (let left = limit; left > 0; ) {
      const chunk = await this.#reader.readUpTo(Math.min(left, 1 << 20));
      if (chunk.length === 0) return;
      left -= chunk.length;
    }
  }

  /** Tells the source that no more bytes will be read (closes a file stream). */
  async close(): Promise<void> {
    await this.#iterator.return?.();
  }
}

function truncated(error: unknown, what: string): unknown {
  if (!(error instanceof UnexpectedEndError)) return error;
  return new TarSyntaxError(
    `Cannot read tar archive: it ends inside ${what} (${error.needed} bytes needed at offset ${error.offset})`,
    error.offset,
    { cause: error },
  );
}

function fromSync(iterator: Iterator<Uint8Array>): AsyncIterator<Uint8Array> {
  return {
    next: async () => iterator.next(),
    return: async () => iterator.return?.() ?? { done: true, value: undefined },
  };
}
