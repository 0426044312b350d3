/** What kind of problem a {@linkcode PartitionTableError} reports. */
export type PartitionTableErrorCode =
  | "short-sector"
  | "bad-signature"
  | "ebr-signature"
  | "ebr-loop"
  | "ebr-outside"
  | "ebr-too-many"
  | "script-syntax"
  | "json-syntax";

/**
 * Bytes that cannot be read as a DOS partition table (a bad 0x55AA signature,
 * an EBR chain that loops or points outside the disk), or a script that cannot
 * be parsed. `offset` is the byte offset of the problem in the image (or the
 * character offset in a script).
 */
export class PartitionTableError extends SyntaxError {
  readonly offset: number;
  readonly code: PartitionTableErrorCode;
  constructor(code: PartitionTableErrorCode, message: string, offset: number) {
    super(message);
    this.name = "PartitionTableError";
    this.code = code;
    this.offset = offset;
  }
}

/** What kind of problem a {@linkcode PartitionLayoutError} reports. */
export type PartitionLayoutErrorCode =
  | "gpt"
  | "overlap"
  | "past-end"
  | "logical-outside"
  | "extended-count"
  | "bad-number"
  | "bad-range"
  | "bad-type"
  | "no-room"
  | "no-ebr-room"
  | "not-found";

/**
 * A table that reads fine but must not be used or written: partitions that
 * overlap, run past the disk's end, logical partitions outside their extended
 * one, a protective 0xEE entry (a GPT disk), a layout that does not fit.
 * `offset` is the byte offset of the offending entry in the image (or -1 for a
 * table not yet on disk).
 */
export class PartitionLayoutError extends RangeError {
  readonly offset: number;
  readonly code: PartitionLayoutErrorCode;
  /** Number of the partition concerned, when there is one. */
  readonly partition: number | undefined;
  constructor(code: PartitionLayoutErrorCode, message: string, offset = -1, partition?: number) {
    super(message);
    this.name = "PartitionLayoutError";
    this.code = code;
    this.offset = offset;
    this.partition = partition;
  }
}

/** What kind of problem a {@linkcode FilesystemProbeError} reports. */
export type FilesystemProbeErrorCode = "ambiguous";

/**
 * The head of a partition image that cannot be sized with confidence: two
 * recognisable filesystem headers that state different sizes (`ambiguous`).
 * `offset` is the byte offset of the second header.
 */
export class FilesystemProbeError extends SyntaxError {
  readonly offset: number;
  readonly code: FilesystemProbeErrorCode;
  constructor(code: FilesystemProbeErrorCode, message: string, offset: number) {
    super(message);
    this.name = "FilesystemProbeError";
    this.code = code;
    this.offset = offset;
  }
}
