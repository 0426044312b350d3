/**
 * The writer's errors. Every error of the package is named `Ext<What>Error`
 * and subclasses the nearest built-in: `RangeError` for what does not fit,
 * `SyntaxError` for input that cannot be parsed, `TypeError` for an option
 * that cannot be used. Messages say what could not be done and why:
 * "Cannot fit the tree: ...".
 *
 * @module
 */

/**
 * A tree that does not fit (blocks, inodes) or cannot be stored in ext2/ext3
 * (a name over 255 bytes, a file too big for a block map, too many links, a
 * directory hard link), found before the first byte is written.
 *
 * @example Usage
 * ```ts
 * import { ExtLimitError } from "@bigfile/ext3fs";
 * import { mkfs } from "@bigfile/ext3fs/node";
 * try {
 *   await mkfs(["rootfs/"], { size: 1 << 20 });
 * } catch (error) {
 *   if (error instanceof ExtLimitError) console.error(error.message);
 * }
 * ```
 */
export class ExtLimitError extends RangeError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ExtLimitError";
  }
}

/**
 * A geometry that cannot be made (too small, too many inodes, a block or
 * inode size mke2fs refuses).
 *
 * @example Usage
 * ```ts
 * import { computeGeometry, ExtGeometryError } from "@bigfile/ext3fs";
 * try {
 *   computeGeometry({ bytes: 1000 });
 * } catch (error) {
 *   if (error instanceof ExtGeometryError) console.error(error.message);
 * }
 * ```
 */
export class ExtGeometryError extends RangeError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ExtGeometryError";
  }
}

/**
 * A line of a device table that cannot be used; `line` is its number.
 *
 * @example Usage
 * ```ts
 * import { ExtDeviceTableError } from "@bigfile/ext3fs";
 * import { mkfs } from "@bigfile/ext3fs/node";
 * try {
 *   await mkfs(["rootfs/"], { deviceTable: "/dev/x q 600 0 0 1 1" });
 * } catch (error) {
 *   if (error instanceof ExtDeviceTableError) console.error(error.line);
 * }
 * ```
 */
export class ExtDeviceTableError extends SyntaxError {
  /** 1-based line number. */
  readonly line: number;
  /** Creates the error. */
  constructor(message: string, line: number) {
    super(`Cannot use device table line ${line}: ${message}`);
    this.name = "ExtDeviceTableError";
    this.line = line;
  }
}

/**
 * An option mkfs cannot use: which one, what it wants and what it got, or
 * which other option it cannot be given with. The CLI words it with its
 * flags (`-t wants ext2, ext3 or ext4, got ext5`).
 *
 * @example Usage
 * ```ts
 * import { ExtOptionError } from "@bigfile/ext3fs";
 * import { mkfs } from "@bigfile/ext3fs/node";
 * try {
 *   await mkfs(["rootfs/"], { reservedPercent: 60 });
 * } catch (error) {
 *   if (error instanceof ExtOptionError) console.error(error.option, error.wants);
 * }
 * ```
 */
export class ExtOptionError<Option extends string = string> extends TypeError {
  // `Option` is a key of MkfsOptions where mkfs throws it; the class names no
  // MkfsOptions itself, so the core's types never reach the Node-specific writer.
  /** The option, by its name in `MkfsOptions`. */
  readonly option: Option;
  /** What it wants ("ext2, ext3 or ext4"), or "" for a conflict. */
  readonly wants: string;
  /** What it got, as text. */
  readonly got: string;
  /** The option it cannot be given with. */
  readonly conflictsWith: Option | undefined;
  /** Why the value cannot be used, when more than `wants` says (e.g. mke2fs's reason for a feature combination). */
  readonly reason: string | undefined;
  /** Creates the error. */
  constructor(option: Option, wants: string, got: string, conflictsWith?: Option, reason?: string) {
    super(
      conflictsWith
        ? `Cannot use ${option} with ${conflictsWith}: give one`
        : reason
          ? `Cannot use ${option} ${got}: ${reason}`
          : `Cannot use ${option} ${got}: mkfs wants ${wants}`,
    );
    this.reason = reason;
    this.name = "ExtOptionError";
    this.option = option;
    this.wants = wants;
    this.got = got;
    this.conflictsWith = conflictsWith;
  }
}

/** @deprecated The earlier name of {@linkcode ExtLimitError}. */
export const MkfsPlanError = ExtLimitError;
/** @deprecated The earlier name of {@linkcode ExtLimitError}. */
export type MkfsPlanError = ExtLimitError;
/** @deprecated The earlier name of {@linkcode ExtGeometryError}. */
export const GeometryError = ExtGeometryError;
/** @deprecated The earlier name of {@linkcode ExtGeometryError}. */
export type GeometryError = ExtGeometryError;
/** @deprecated The earlier name of {@linkcode ExtDeviceTableError}. */
export const DeviceTableError = ExtDeviceTableError;
/** @deprecated The earlier name of {@linkcode ExtDeviceTableError}. */
export type DeviceTableError = ExtDeviceTableError;
