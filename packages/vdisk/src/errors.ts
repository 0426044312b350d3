/**
 * A disk image that cannot be read as its format says: a bad magic, a field
 * out of range, a table entry pointing outside the file. Carries the image
 * `format` and the byte `offset` of the problem in the image file.
 *
 * @example Usage
 * ```ts
 * import { ImageFormatError } from "@bigfile/vdisk";
 * const error = new ImageFormatError("qcow2", 36, "Cannot read qcow2 image: l1_size is 0");
 * error.offset; // 36
 * ```
 */
export class ImageFormatError extends SyntaxError {
  /** The image format that was being read. */
  readonly format: string;
  /** Byte offset in the image file of the field or entry at fault. */
  readonly offset: number;
  constructor(format: string, offset: number, message: string) {
    super(message);
    this.name = "ImageFormatError";
    this.format = format;
    this.offset = offset;
  }
}

/**
 * An image that is valid but uses a feature this package does not implement
 * (a backing file, encryption, external data files, a split VMDK).
 *
 * @example Usage
 * ```ts
 * import { UnsupportedImageError } from "@bigfile/vdisk";
 * const error = new UnsupportedImageError("qcow2", 8, "Cannot read qcow2 image: it has a backing file");
 * error instanceof SyntaxError; // true
 * ```
 */
export class UnsupportedImageError extends ImageFormatError {
  constructor(format: string, offset: number, message: string) {
    super(format, offset, message);
    this.name = "UnsupportedImageError";
  }
}
