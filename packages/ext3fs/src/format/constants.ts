/** Magic number of an ext2/ext3/ext4 superblock (`s_magic`). */
export const EXT2_MAGIC = 0xef53;
/** Byte offset of the primary superblock from the start of the filesystem. */
export const SUPERBLOCK_OFFSET = 1024;
/** Size of the superblock structure in bytes. */
export const SUPERBLOCK_SIZE = 1024;
/** Size of a classic group descriptor. */
export const GROUP_DESC_SIZE = 32;
/** Size of a 64bit-feature group descriptor. */
export const GROUP_DESC_SIZE_64 = 64;
/** Size of the classic (good old) inode. */
export const GOOD_OLD_INODE_SIZE = 128;
/** Number of `i_block` slots: 12 direct, single, double, triple indirect. */
export const N_BLOCKS = 15;
/** Index of the single indirect block in `i_block`. */
export const IND_BLOCK = 12;
/** Index of the double indirect block in `i_block`. */
export const DIND_BLOCK = 13;
/** Index of the triple indirect block in `i_block`. */
export const TIND_BLOCK = 14;
/** Number of direct blocks in `i_block`. */
export const NDIR_BLOCKS = 12;
/** Longest directory entry name in bytes. */
export const NAME_MAX = 255;
/** Symlink targets shorter than this are stored inline in `i_block`. */
export const FAST_SYMLINK_MAX = 59;

/** Reserved inode numbers. */
export const InodeNumber = {
  BAD: 1,
  ROOT: 2,
  USR_QUOTA: 3,
  GRP_QUOTA: 4,
  BOOT_LOADER: 5,
  UNDEL_DIR: 6,
  RESIZE: 7,
  JOURNAL: 8,
  EXCLUDE: 9,
  REPLICA: 10,
  /** First inode for ordinary files on revision 1 filesystems. */
  FIRST: 11,
} as const;

/** `s_feature_compat` bits. */
export const FeatureCompat = {
  DIR_PREALLOC: 0x0001,
  IMAGIC_INODES: 0x0002,
  HAS_JOURNAL: 0x0004,
  EXT_ATTR: 0x0008,
  RESIZE_INODE: 0x0010,
  DIR_INDEX: 0x0020,
  SPARSE_SUPER2: 0x0200,
} as const;

/** `s_feature_incompat` bits. */
export const FeatureIncompat = {
  COMPRESSION: 0x0001,
  FILETYPE: 0x0002,
  RECOVER: 0x0004,
  JOURNAL_DEV: 0x0008,
  META_BG: 0x0010,
  EXTENTS: 0x0040,
  BIT64: 0x0080,
  MMP: 0x0100,
  FLEX_BG: 0x0200,
  EA_INODE: 0x0400,
  DIRDATA: 0x1000,
  CSUM_SEED: 0x2000,
  LARGEDIR: 0x4000,
  INLINE_DATA: 0x8000,
  ENCRYPT: 0x10000,
  CASEFOLD: 0x20000,
} as const;

/** `s_feature_ro_compat` bits. */
export const FeatureRoCompat = {
  SPARSE_SUPER: 0x0001,
  LARGE_FILE: 0x0002,
  BTREE_DIR: 0x0004,
  HUGE_FILE: 0x0008,
  GDT_CSUM: 0x0010,
  DIR_NLINK: 0x0020,
  EXTRA_ISIZE: 0x0040,
  QUOTA: 0x0100,
  BIGALLOC: 0x0200,
  METADATA_CSUM: 0x0400,
  READONLY: 0x1000,
  PROJECT: 0x2000,
  VERITY: 0x8000,
} as const;

/** `s_flags` bits. */
export const SuperFlags = {
  SIGNED_HASH: 0x0001,
  UNSIGNED_HASH: 0x0002,
  TEST_FILESYS: 0x0004,
} as const;

/** `s_default_mount_opts` bits. */
export const DefaultMount = {
  DEBUG: 0x0001,
  BSDGROUPS: 0x0002,
  XATTR_USER: 0x0004,
  ACL: 0x0008,
  UID16: 0x0010,
} as const;

/** `s_def_hash_version` values. */
export const HashVersion = { LEGACY: 0, HALF_MD4: 1, TEA: 2 } as const;

/** `s_state` bits. */
export const FsState = { VALID: 1, ERROR: 2, ORPHAN: 4 } as const;

/** `s_errors` values. */
export const ErrorsBehavior = { CONTINUE: 1, RO: 2, PANIC: 3 } as const;

/** `i_mode` file type bits (the `S_IFMT` part). */
export const FileMode = {
  IFMT: 0o170000,
  IFSOCK: 0o140000,
  IFLNK: 0o120000,
  IFREG: 0o100000,
  IFBLK: 0o060000,
  IFDIR: 0o040000,
  IFCHR: 0o020000,
  IFIFO: 0o010000,
  ISUID: 0o4000,
  ISGID: 0o2000,
  ISVTX: 0o1000,
} as const;

/** Directory entry `file_type` values (with the `filetype` feature). */
export const DirFileType = {
  UNKNOWN: 0,
  REG_FILE: 1,
  DIR: 2,
  CHRDEV: 3,
  BLKDEV: 4,
  FIFO: 5,
  SOCK: 6,
  SYMLINK: 7,
} as const;

/** `i_flags` bits. */
export const InodeFlags = {
  SECRM: 0x1,
  UNRM: 0x2,
  COMPR: 0x4,
  SYNC: 0x8,
  IMMUTABLE: 0x10,
  APPEND: 0x20,
  NODUMP: 0x40,
  NOATIME: 0x80,
  INDEX: 0x1000,
  JOURNAL_DATA: 0x4000,
  DIRSYNC: 0x10000,
  TOPDIR: 0x20000,
  HUGE_FILE: 0x40000,
  EXTENTS: 0x80000,
  EA_INODE: 0x200000,
  INLINE_DATA: 0x10000000,
} as const;

/** The directory entry type for an inode mode, or `UNKNOWN`. */
export function dirFileTypeOfMode(mode: number): number {
  switch (mode & FileMode.IFMT) {
    case FileMode.IFREG:
      return DirFileType.REG_FILE;
    case FileMode.IFDIR:
      return DirFileType.DIR;
    case FileMode.IFCHR:
      return DirFileType.CHRDEV;
    case FileMode.IFBLK:
      return DirFileType.BLKDEV;
    case FileMode.IFIFO:
      return DirFileType.FIFO;
    case FileMode.IFSOCK:
      return DirFileType.SOCK;
    case FileMode.IFLNK:
      return DirFileType.SYMLINK;
    default:
      return DirFileType.UNKNOWN;
  }
}

/** JBD2 journal constants (the journal is big-endian). */
export const Jbd2 = {
  MAGIC: 0xc03b3998,
  DESCRIPTOR_BLOCK: 1,
  COMMIT_BLOCK: 2,
  SUPERBLOCK_V1: 3,
  SUPERBLOCK_V2: 4,
  REVOKE_BLOCK: 5,
  /** `s_jnl_backup_type` meaning "s_jnl_blocks holds a copy of the journal inode's i_block". */
  BACKUP_INODE_BLOCKS: 1,
  /** Minimum journal length in blocks. */
  MIN_BLOCKS: 1024,
} as const;

/** Extended attribute block/in-inode header magic. */
export const EXT_ATTR_MAGIC = 0xea020000;
