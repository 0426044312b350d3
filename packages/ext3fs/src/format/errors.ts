/**
 * A structure that cannot be decoded: carries the byte `offset` of the problem
 * within the buffer that was being decoded (or within the image, when known).
 */
export class ExtFormatError extends SyntaxError {
  /** Byte offset of the problem. */
  readonly offset: number;
  /** Creates the error; `message` in sentence case without a final period. */
  constructor(message: string, offset: number) {
    super(message);
    this.name = "ExtFormatError";
    this.offset = offset;
  }
}

/** @deprecated The earlier name of {@linkcode ExtFormatError}. */
export const Ext2FormatError = ExtFormatError;
/** @deprecated The earlier name of {@linkcode ExtFormatError}. */
export type Ext2FormatError = ExtFormatError;
