/**
 * Disk images made the standard way (truncate + sfdisk + mke2fs -d +
 * grub-mkimage + grub-bios-setup): the reference that bigfile's images are
 * compared with, and what the harness self-test checks.
 *
 * @module
 */
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { grubBiosSetupGolden } from "./grub_bios_setup.ts";
import { grubMkimage } from "./grub_mkimage.ts";
import { sfdiskApply } from "./sfdisk.ts";

/** Options of {@link makeReferenceImage}. */
export interface ReferenceImageOptions {
  /** The tree to copy in with `mke2fs -d`. Omit for an empty filesystem. */
  root?: string;
  /** Image size in bytes. @default 64 MiB */
  size?: number;
  /** First sector of the partition. @default 2048 */
  startSector?: number;
  /** Filesystem type. @default "ext3" */
  fsType?: "ext2" | "ext3";
  /** Filesystem block size. @default mke2fs's choice */
  blockSize?: number;
  /** More mke2fs arguments (e.g. ["-I", "128"]). */
  mke2fsArgs?: readonly string[];
  /** Install GRUB (boot.img + a core.img for (hd0,msdos1)/boot/grub). @default true */
  grub?: boolean;
  /** grub-bios-setup --no-rs-codes. @default false */
  noRsCodes?: boolean;
}

/** What {@link makeReferenceImage} made. */
export interface ReferenceImage {
  path: string;
  /** Byte offset of the filesystem. */
  offset: number;
  /** Filesystem size in bytes. */
  fsBytes: number;
}

/**
 * Makes a partitioned, optionally GRUB-bootable disk image with the standard
 * tools: a sparse file, one bootable Linux partition (sfdisk), an ext3
 * filesystem filled from `root` (`mke2fs -t ext3 -d ROOT -E offset=...`), then
 * grub-mkimage + grub-bios-setup (see {@link grubBiosSetupGolden}). Put /boot
 * into `root` first with {@link writeBootFiles} to make it boot.
 */
export async function makeReferenceImage(
  path: string,
  options: ReferenceImageOptions = {},
): Promise<ReferenceImage> {
  const size = options.size ?? 64 << 20;
  const start = options.startSector ?? 2048;
  const offset = start * 512;
  const fsBytes = Math.floor((size - offset) / 4096) * 4096;
  const handle = await open(path, "w");
  await handle.truncate(size);
  await handle.close();
  await sfdiskApply(path, `start=${start}, size=${fsBytes / 512}, type=83, bootable\n`);
  const args = ["-q", "-F", "-t", options.fsType ?? "ext3", "-E", `offset=${offset}`];
  if (options.blockSize) args.push("-b", String(options.blockSize));
  if (options.root) args.push("-d", options.root);
  args.push(...(options.mke2fsArgs ?? []), path, `${fsBytes / 1024}k`);
  const mk = await execa("mke2fs", args, { reject: false, stdin: "ignore" });
  if (mk.exitCode !== 0) throw new Error(`mke2fs failed: ${mk.stderr.trim()}`);
  if (options.grub !== false) {
    const dir = await mkdtemp(join(tmpdir(), "bigfile-ref-"));
    try {
      const core = await grubMkimage(join(dir, "core.img"));
      const r = await grubBiosSetupGolden(path, {
        coreImg: core,
        noRsCodes: options.noRsCodes ?? false,
      });
      if (r.exitCode !== 0) throw new Error(`grub-bios-setup failed: ${r.stderr.trim()}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return { path, offset, fsBytes };
}
