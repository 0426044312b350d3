/**
 * A filesystem structure that cannot be trusted: a bad magic number, a pointer
 * out of range, a cycle, an absurd count. `offset` is the byte offset (in the
 * filesystem image) of the structure that was wrong.
 *
 * @example Usage
 * ```ts
 * import { ExtCorruptionError } from "@bigfile/ext3fs";
 * try {
 *   // reader.readFile("/etc/passwd")
 * } catch (error) {
 *   if (error instanceof ExtCorruptionError) console.error(error.offset);
 * }
 * ```
 */
export class ExtCorruptionError extends RangeError {
  /** Byte offset of the faulty structure in the filesystem image. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = "ExtCorruptionError";
    this.offset = offset;
  }
}

/** Why a path could not be resolved. */
export type ExtPathReason =
  | "not-found"
  | "not-a-directory"
  | "is-a-directory"
  | "symlink-loop"
  | "not-a-symlink";

/**
 * A path that does not name what the caller asked for: missing, not a
 * directory, a directory where a file was expected, or too many symlinks.
 *
 * @example Usage
 * ```ts
 * import { ExtPathError } from "@bigfile/ext3fs";
 * const error = new ExtPathError("/nope", "not-found");
 * error.message; // "Cannot find '/nope' in the filesystem"
 * ```
 */
export class ExtPathError extends Error {
  /** The path as the caller gave it. */
  readonly path: string;
  /** What was wrong with it. */
  readonly reason: ExtPathReason;
  constructor(path: string, reason: ExtPathReason) {
    const text: Record<ExtPathReason, string> = {
      "not-found": `Cannot find '${path}' in the filesystem`,
      "not-a-directory": `Cannot use '${path}' as a directory: it is not one`,
      "is-a-directory": `Cannot read '${path}' as a file: it is a directory`,
      "symlink-loop": `Cannot resolve '${path}': too many levels of symbolic links`,
      "not-a-symlink": `Cannot read '${path}' as a symbolic link: it is not one`,
    };
    super(text[reason]);
    this.name = "ExtPathError";
    this.path = path;
    this.reason = reason;
  }
}

/**
 * A valid filesystem that uses a feature this reader does not implement
 * (compression, inline data, encryption, bigalloc...). `offset` points at the
 * field that names the feature.
 *
 * @example Usage
 * ```ts
 * import { ExtUnsupportedError } from "@bigfile/ext3fs";
 * new ExtUnsupportedError("Cannot read this filesystem: it uses bigalloc", 1124).offset; // 1124
 * ```
 */
export class ExtUnsupportedError extends TypeError {
  /** Byte offset of the field that names the unsupported feature. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = "ExtUnsupportedError";
    this.offset = offset;
  }
}
