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

function time(seconds: number, extra: number | undefined): ReaderTime {
  if (extra === undefined) return { seconds, nanoseconds: 0 };
  // The low two bits extend the signed 32-bit seconds past 2038.
  return { seconds: seconds + (extra & 3) * 2 ** 32, nanoseconds: Math.floor(extra / 4) };
}

/** Decodes one on-disk inode of `inodeSize` bytes. */
export function decodeReaderInode(
  bytes: Uint8Array,
  ino: number,
  offset: number,
  blockSize: number,
  hugeFile: boolean,
): ReaderInode {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => v.getUint32(o, true);
  const u16 = (o: number) => v.getUint16(o, true);
  const extraIsize = bytes.length > 128 ? u16(128) : 0;
  const has = (field: number) =>
    bytes.length > 128 &&
    extraIsize >= 4 &&
    128 + extraIsize >= field + 4 &&
    field + 4 <= bytes.length;
  const extra = (field: number) => (has(field) ? u32(field) : undefined);
  const flags = u32(32);
  let blocks512 = u32(28) + u16(116) * 2 ** 32;
  if (hugeFile && flags & HUGE_FILE_FL) blocks512 *= blockSize / 512;
  return {
    ino,
    mode: u16(0),
    uid: u16(2) + u16(120) * 65536,
    gid: u16(24) + u16(122) * 65536,
    size: u32(4) + u32(108) * 2 ** 32,
    atime: time(v.getInt32(8, true), extra(140)),
    ctime: time(v.getInt32(12, true), extra(132)),
    mtime: time(v.getInt32(16, true), extra(136)),
    crtime: has(144) ? time(v.getInt32(144, true), extra(148)) : undefined,
    dtime: u32(20),
    links: u16(26),
    blocks512,
    flags,
    block: bytes.slice(40, 100),
    generation: u32(100),
    fileAcl: u32(104) + u16(118) * 2 ** 32,
    extraIsize,
    offset,
  };
}
