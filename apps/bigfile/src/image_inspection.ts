import type { DiskGeometry } from "@bigfile/chs-geometry";
import type { BootInspection } from "@bigfile/grub-mbr";
import type { Partition, SfdiskJson } from "@bigfile/mbr";
import type { GrubPrefix } from "./_grub_prefix.ts";
import type { GrubMenuEntry, GrubMenuKind } from "./grub_menu.ts";

// The report `bigfile inspect --json` prints and the browser page shows.

/** How bad a finding of {@linkcode inspectDevice} is: errors make `bigfile inspect` exit 1. */
export type CheckLevel = "error" | "warning";

/** One finding of the consistency checks. */
export interface InspectCheck {
  level: CheckLevel;
  /** A stable name: `fs-larger-than-partition`, `fs-smaller-than-partition`, `table`, `bootable-empty`, `grub-prefix`, `grub-core`, `missing-boot-file`, `menu`, `filesystem`. */
  code: string;
  message: string;
  /** The partition concerned (0: the whole disk). */
  partition?: number;
}

/** An ext2/3/4 filesystem's summary from its superblock. */
export interface FilesystemSummary {
  type: "ext2" | "ext3" | "ext4";
  blockCount: number;
  blockSize: number;
  /** blockCount x blockSize. */
  bytes: number;
  label: string;
  uuid: string;
  freeBlocks: number;
  /** freeBlocks x blockSize. */
  freeBytes: number;
  inodeCount: number;
  freeInodes: number;
  /** `clean`, or `not clean` (mounted, or not cleanly unmounted). */
  state: string;
}

/** A partition (or the whole disk, number 0) and what it holds. */
export interface PartitionReport {
  number: number;
  kind: Partition["kind"] | "disk";
  /** First sector and length in sectors. */
  start: number;
  size: number;
  /** Byte offset and length. */
  offset: number;
  length: number;
  type: number;
  typeName: string;
  bootable: boolean;
  /** The ext2/3/4 filesystem, when there is one. */
  filesystem?: FilesystemSummary;
  /** What else it holds (`vfat`, `swap`, `empty`, `unknown`, ...) when no ext filesystem. */
  content?: string;
  /** Why the filesystem could not be read, when its superblock was found but the rest failed. */
  problem?: string;
}

/** A bootloader menu found in a filesystem. */
export interface MenuReport {
  partition: number;
  /** The file's path inside the filesystem. */
  config: string;
  kind: GrubMenuKind;
  /** Whether this is the file pygrub would boot from. */
  pygrub: boolean;
  default?: number;
  entries: GrubMenuEntry[];
  /** Why the file could not be parsed. */
  problem?: string;
}

/** The boot code in sector 0 (grub-mbr's inspection) and where GRUB's core.img looks for its files. */
export interface BootReport extends BootInspection {
  /** GRUB 2: the prefix compiled into core.img. */
  prefix?: GrubPrefix;
  /** GRUB 2: why the prefix could not be read. */
  prefixProblem?: string;
}

/** What {@linkcode inspectDevice} found. */
export interface ImageInspection {
  image: string;
  /** The image's size in bytes. */
  bytes: number;
  /** The CHS geometry fdisk gives a disk of this size. */
  geometry: DiskGeometry;
  /** The DOS partition table in the shape of `sfdisk --json`, or null without one. */
  table: SfdiskJson | null;
  /** The table as `mbr print` (and `fdisk -l`) lists it; "" without one. */
  listing: string;
  partitions: PartitionReport[];
  boot: BootReport;
  menus: MenuReport[];
  checks: InspectCheck[];
  /** No check at the `error` level. */
  ok: boolean;
}
