import { decodeExtraTime, decodeInode } from "../format/mod.ts";

/** Inode flag: the directory is hash-indexed. */
export const INDEX_FL = 0x1000;
/** Inode flag: blocks are mapped by an extent tree. */
export const EXTENTS_FL = 0x80000;
/** Inode flag: file data lives in the inode. */
export const INLINE_DATA_FL = 0x10000000;
/** Inode flag: i_blocks counts filesystem blocks, not 512-byte units. */
export const HUGE_FILE_FL = 0x40000;
/** Inode flag: the file is encrypted. */
export const ENCRYPT_FL = 0x800;

/** File type bits of `mode`. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** A timestamp: whole seconds since 1970 and nanoseconds. */
export interface ReaderTime {
  seconds: number;
  nanoseconds: number;
}

/** A decoded inode. */
export interface ReaderInode {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atime: ReaderTime;
  ctime: ReaderTime;
  mtime: ReaderTime;
  crtime: ReaderTime | undefined;
  dtime: number;
  links: number;
  /** i_blocks in 512-byte units (scaled for huge_file). */
  blocks512: number;
  flags: number;
  /** The 60 bytes of i_block. */
  block: Uint8Array;
  generation: number;
  fileAcl: number;
  extraIsize: number;
  /** Byte offset of the inode in the image. */
  offset: number;
}

/** Decodes one on-disk inode of `inodeSize` bytes with the format codec. */
export function decodeReaderInode(
  bytes: Uint8Array,
  ino: number,
  offset: number,
  blockSize: number,
  hugeFile: boolean,
): ReaderInode {
  const raw = decodeInode(bytes);
  // The *_extra words exist only when i_extra_isize covers them.
  const has = (field: number) =>
    bytes.length > 128 && 128 + raw.extraIsize >= field + 4 && field + 4 <= bytes.length;
  const time = (low: number, extra: number, field: number): ReaderTime =>
    has(field) ? decodeExtraTime(low, extra) : { seconds: low | 0, nanoseconds: 0 };
  let blocks512 = raw.blocks;
  if (hugeFile && raw.flags & HUGE_FILE_FL) blocks512 *= blockSize / 512;
  return {
    ino,
    mode: raw.mode,
    uid: raw.uid,
    gid: raw.gid,
    size: raw.size,
    atime: time(raw.atime, raw.atimeExtra, 140),
    ctime: time(raw.ctime, raw.ctimeExtra, 132),
    mtime: time(raw.mtime, raw.mtimeExtra, 136),
    crtime: has(144) ? time(raw.crtime, raw.crtimeExtra, 148) : undefined,
    dtime: raw.dtime,
    links: raw.linksCount,
    blocks512,
    flags: raw.flags,
    block: bytes.slice(40, 100),
    generation: raw.generation,
    fileAcl: raw.fileAcl,
    extraIsize: raw.extraIsize,
    offset,
  };
}
