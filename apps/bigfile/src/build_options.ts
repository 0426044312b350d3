/** The seed's disk: 503 cylinders of 255 heads × 63 sectors × 512 bytes. */
export const SEED_DISK_SIZE = 4141875200;

/** A root tree: a directory, a tar file, or a tar stream (standard input for the CLI). */
export type RootfsSource =
  | string
  | { kind: "directory" | "tar"; path: string }
  | { kind: "tar-stream"; stream: AsyncIterable<Uint8Array>; label?: string };

/** Where {@linkcode build} writes the disk image. */
export type BuildOutput =
  /** A path: written atomically (a temporary file renamed), sparse. */
  | string
  /** An open descriptor: sparse when it is an empty regular file, else streamed in order. */
  | { fd: number }
  /** A sink for every byte in order (zeros included). */
  | { write(chunk: Uint8Array): Promise<void> };

/** Options of {@linkcode build}; the names are the long flags of `bigfile build`. */
export interface BuildOptions {
  /** Where the image goes. */
  output: BuildOutput;
  /**
   * The image file's format: raw, or a container written directly (no raw
   * intermediate): qcow2, vhd (dynamic), vhd-fixed, vmdk (monolithicSparse),
   * vmdk-stream (streamOptimized). @default "raw"
   */
  format?: "raw" | "qcow2" | "vhd" | "vhd-fixed" | "vmdk" | "vmdk-stream";
  /**
   * Disk size in bytes, or `auto`: the smallest disk that holds the
   * filesystem (the tree plus `free`) at the alignment.
   * @default 4141875200 (the seed's)
   */
  size?: number | "auto";
  /** With `size: "auto"`: free space to keep in the filesystem, in bytes. @default about 10% of the tree */
  free?: number;
  /** Partition alignment: `cylinder` (sector 63, whole cylinders: the seed's) or `mib` (sector 2048). @default "cylinder" */
  align?: "cylinder" | "mib";
  /** Root trees laid over each other in order (later ones win). @default a minimal root */
  rootfs?: readonly RootfsSource[];
  /** A kernel file, copied to /boot/vmlinuz. @default the kernel found in the root tree's /boot */
  kernel?: string;
  /** An initrd file, copied to /boot/initrd.img. @default the initrd found beside the kernel */
  initrd?: string;
  /** Kernel arguments after `root=DEV ro`. */
  cmdline?: string;
  /** The root device the kernel mounts. @default "/dev/sda1" */
  rootDevice?: string;
  /** Filesystem type: ext3 is the seed's; ext4 takes mke2fs.conf's ext4 features. @default "ext3" */
  fs?: "ext3" | "ext4" | "ext2";
  /**
   * Features added to or removed from the type's, as mke2fs -O spells them
   * (`^metadata_csum,^64bit` for boot loaders older than those features).
   */
  features?: string;
  /** Block size (1024, 2048, 4096). @default by size, as mke2fs */
  blockSize?: number;
  /** Inode size (128 or 256). @default 256 */
  inodeSize?: number;
  /** Number of inodes (mke2fs -N). */
  inodes?: number;
  /** Bytes per inode (mke2fs -i). */
  bytesPerInode?: number;
  /** Blocks reserved for root, in percent (mke2fs -m). @default 5 */
  reservedPercent?: number;
  /** Volume label (at most 16 bytes). */
  label?: string;
  /** Filesystem UUID. @default random, or from `seed` */
  uuid?: string;
  /** Owner of the root directory (mke2fs -E root_owner). */
  rootOwner?: { uid: number; gid: number };
  /** Every file owned by 0:0 (genext2fs --squash-uids). @default false */
  squashOwners?: boolean;
  /** A genext2fs/makedevs device table's text, applied after the trees. */
  deviceTable?: string;
  /** How mkfs holds the trees: see `ext3fs mkfs --writer`. @default "auto" */
  writer?: "auto" | "tree" | "walk";
  /** `grub` (fails without GRUB's files), `none`, or `auto`: GRUB when its files are found. @default "auto" */
  bootloader?: "auto" | "grub" | "none";
  /** GRUB's i386-pc directory. @default $GRUB_DIR, else the distribution's */
  grubDir?: string;
  /** GRUB and the kernel on the serial console (ttyS0, 115200). @default false */
  serial?: boolean;
  /** Seconds GRUB's menu waits. @default 0 */
  timeout?: number;
  /** The menu entry's title. @default "Linux" */
  title?: string;
  /** Reproducible output: UUID, hash seed, disk signature and created times come from it. */
  seed?: string;
  /** SOURCE_DATE_EPOCH: times are clamped to it and created objects get it. */
  sourceDateEpoch?: number;
  /** Threads that copy file contents into a regular-file output. @default cores - 1, at most 4 */
  threads?: number;
  /** Directory for temporary files. @default os.tmpdir() */
  tempDir?: string;
  /** The environment ($GRUB_DIR). @default process.env */
  env?: Record<string, string | undefined>;
  /** Called once the filesystem is planned, before the first byte is written. */
  onPlanned?: (planned: { files: number; bytes: number }) => void;
  /** Notes on choices and on what is missing to boot, one line each. */
  log?: (message: string) => void;
  /**
   * Progress: bytes done of `total` (the head and the filesystem's used
   * blocks: the free space past them costs nothing), and how many files the
   * filesystem holds.
   */
  onProgress?: (done: number, total: number, files: number) => void;
}
