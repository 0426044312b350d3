/** What a tar member is. `"file"` covers ustar types `0`, `\0`, `7` and unknown types (as POSIX asks). */
export type TarEntryType =
  | "file"
  | "directory"
  | "symlink"
  | "hardlink"
  | "char"
  | "block"
  | "fifo";

/**
 * The metadata of one tar member, after pax extended headers and GNU long
 * names have been applied.
 */
export interface TarHeader {
  /**
   * The member's path, normalised by {@linkcode readTar}: relative, `/`
   * separated, no `.` or empty components, no trailing slash. The archive's
   * root directory (`./` as GNU tar writes it) is `"."`.
   */
  path: string;
  /** The member's type. */
  type: TarEntryType;
  /** 12 bits: permissions plus setuid (0o4000), setgid (0o2000) and sticky (0o1000). */
  mode: number;
  /** Numeric owner. */
  uid: number;
  /** Numeric group. */
  gid: number;
  /** Owner name, `""` when the archive has none. */
  uname: string;
  /** Group name, `""` when the archive has none. */
  gname: string;
  /** Bytes of the body: 0 for everything but files (and hard links that carry data). */
  size: number;
  /** Modification time in seconds since the epoch; fractional with pax, negative before 1970. */
  mtime: number;
  /** Access time in seconds, when the archive has one (pax, GNU incremental). */
  atime?: number;
  /** Status change time in seconds, when the archive has one (pax, GNU incremental). */
  ctime?: number;
  /**
   * Symlink target (as stored, never normalised), or for a hard link the
   * path of the earlier member it links to (normalised like `path`). `""` otherwise.
   */
  linkname: string;
  /** Major device number of a character or block device, else 0. */
  devmajor: number;
  /** Minor device number of a character or block device, else 0. */
  devminor: number;
  /** Extended attributes from pax `SCHILY.xattr.*` records (name without the prefix). */
  xattrs?: Record<string, Uint8Array>;
}

/** A data range of a sparse member; everything outside the ranges reads as zeros. */
export interface TarSparseRange {
  /** Offset in the file. */
  offset: number;
  /** Bytes of data. */
  length: number;
}

/** A member read by {@linkcode readTar}: its header and its body. */
export interface TarEntry extends TarHeader {
  /**
   * Exactly `size` bytes, iterable once, and only before the next member is
   * requested. A body that is not (fully) consumed is skipped when the
   * reader moves on. Chunks may be views of the input's chunks.
   */
  body: AsyncIterable<Uint8Array>;
  /**
   * For a GNU sparse member: its data ranges in file order. The body still
   * yields all `size` bytes (holes as zeros); writers may seek over the rest.
   */
  sparse?: TarSparseRange[];
}

/** A member for {@linkcode writeTar}: `path` and `type`, the rest defaults. */
export interface TarWriteEntry extends Partial<TarHeader> {
  /** The member's path (relative; a trailing `/` is added for directories). */
  path: string;
  /** The member's type. */
  type: TarEntryType;
  /**
   * The body of a file (or of a hard link carrying data): bytes, or an
   * iterable of chunks whose total must be exactly `size`.
   */
  body?: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array;
  /**
   * For a file with holes: its data ranges, in order. The member is written
   * as a GNU sparse file (pax format 1.0), which GNU tar, libarchive and
   * {@linkcode readTar} restore with holes. `body` still yields all `size`
   * bytes, and those outside the ranges must be zeros.
   */
  sparse?: readonly TarSparseRange[];
}
