/**
 * A tar archive that cannot be read: bad checksum, bad number, truncated
 * member, oversized or malformed extended header. `offset` is the byte offset
 * in the archive of the block (or the end) where the problem was found.
 *
 * @example Usage
 * ```ts
 * import { readTar, TarSyntaxError } from "@bigfile/blockdev";
 * try {
 *   for await (const entry of readTar(ReadableStream.from([new Uint8Array(100).fill(1)]))) {}
 * } catch (error) {
 *   if (error instanceof TarSyntaxError) console.error(error.offset);
 * }
 * ```
 */
export class TarSyntaxError extends SyntaxError {
  /** Byte offset in the archive where the problem was found. */
  readonly offset: number;
  constructor(message: string, offset: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "TarSyntaxError";
    this.offset = offset;
  }
}

/**
 * A member whose path (or hard link target) is absolute or climbs out with
 * `..`: extracting it could write outside the target directory. Thrown by
 * {@linkcode readTar} unless `allowUnsafePaths` is set.
 */
export class TarUnsafePathError extends TarSyntaxError {
  /** The path as stored in the archive. */
  readonly path: string;
  constructor(message: string, offset: number, path: string) {
    super(message, offset);
    this.name = "TarUnsafePathError";
    this.path = path;
  }
}
