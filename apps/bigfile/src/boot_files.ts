import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { posix, resolve } from "node:path";
import type { BlockDevice } from "@bigfile/blockdev";
import type { FilesystemReader } from "@bigfile/ext3fs";
import { openDisk } from "./_open_disk.ts";
import { isRegularFile, openVolume } from "./_volumes.ts";
import { BootFilesError, type BootVolume, bootVolumes } from "./boot_volumes.ts";
import {
  BOOT_CONFIG_PATHS,
  type GrubMenu,
  type GrubMenuEntry,
  type GrubMenuKind,
  parseGrubMenu,
  pickMenuEntry,
} from "./grub_menu.ts";

// pygrub's volume order and the error type live in a Node-free module (inspect uses them too).
export {
  BootFilesError,
  type BootFilesErrorCode,
  type BootVolume,
  bootVolumes,
} from "./boot_volumes.ts";

/** The bootloader configuration pygrub would read, found in an image. */
export interface FoundBootConfig {
  volume: BootVolume;
  /** The file's path inside the filesystem (`/boot/grub/grub.cfg`). */
  config: string;
  kind: GrubMenuKind;
  menu: GrubMenu;
  /** The filesystem the file lives in: the kernel and initrd are read from it. */
  reader: FilesystemReader;
}

const MAX_CONFIG_BYTES = 1 << 20;

function describeVolume(volume: BootVolume): string {
  return volume.partition === 0 ? "the whole disk" : `partition ${volume.partition}`;
}

/**
 * Finds the bootloader configuration pygrub would use: on each volume of
 * {@linkcode bootVolumes} in turn, the first of {@linkcode BOOT_CONFIG_PATHS}
 * that exists, parsed with {@linkcode parseGrubMenu}. A volume without a
 * readable filesystem or configuration is passed over; when none has one,
 * throws {@linkcode BootFilesError} (`no-config`) saying what each held.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileDevice } from "@bigfile/blockdev/node";
 * import { findBootConfig } from "@bigfile/bigfile";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { build } from "@bigfile/bigfile";
 * await mkdir("rootfs/etc", { recursive: true });
 * await writeFile("rootfs/etc/hostname", "demo\n");
 * await writeFile("vmlinuz", "not a real kernel\n");
 * await writeFile("initrd.img", "not a real initrd\n");
 * await build({ output: "disk.img", size: "auto", rootfs: ["rootfs/"], kernel: "vmlinuz", initrd: "initrd.img" });
 * const disk = await FileDevice.open("disk.img", { readOnly: true });
 * const found = await findBootConfig(disk);
 * assert.equal(found.config, "/boot/grub/grub.cfg");
 * assert.equal(found.menu.entries.length, 1);
 * await disk.close();
 * ```
 */
export async function findBootConfig(disk: BlockDevice): Promise<FoundBootConfig> {
  const reasons: string[] = [];
  for (const volume of await bootVolumes(disk)) {
    let reader: FilesystemReader;
    try {
      reader = await openVolume(disk, volume);
    } catch (error) {
      reasons.push(`${describeVolume(volume)}: no ext2/3/4 filesystem (${firstLine(error)})`);
      continue;
    }
    const found = await configIn(reader);
    if (!found) {
      reasons.push(`${describeVolume(volume)}: no grub.cfg or menu.lst`);
      continue;
    }
    try {
      const text = new TextDecoder().decode(
        await reader.readFile(found.path, { maxBytes: MAX_CONFIG_BYTES }),
      );
      const menu = parseGrubMenu(text, found.kind);
      if (menu.entries.length === 0) {
        reasons.push(`${describeVolume(volume)}: ${found.path} has no menu entries`);
        continue;
      }
      return { volume, config: found.path, kind: found.kind, menu, reader };
    } catch (error) {
      reasons.push(`${describeVolume(volume)}: ${found.path}: ${firstLine(error)}`);
    }
  }
  throw new BootFilesError(
    "no-config",
    `no bootloader configuration found (${reasons.join("; ")}); looked for ${BOOT_CONFIG_PATHS.map((c) => c.path).join(", ")}`,
  );
}

async function configIn(
  reader: FilesystemReader,
): Promise<{ path: string; kind: GrubMenuKind } | undefined> {
  for (const c of BOOT_CONFIG_PATHS) if (await isRegularFile(reader, c.path)) return c;
  return undefined;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split("\n")[0] ?? text).replace(/^Cannot [^:]*: /, "");
}

/** Options for {@linkcode bootFiles}. */
export interface BootFilesOptions {
  /** Directory the kernel and initrd are written to (created if missing). @default "." */
  outDir?: string;
  /** The menu entry: its number (from 0) or its title. @default the menu's default */
  entry?: number | string;
  /** Write the files; `false` only reports what would be written. @default true */
  write?: boolean;
  /** Directory relative paths are resolved against. @default process.cwd() */
  cwd?: string;
}

/** What {@linkcode bootFiles} found and wrote. */
export interface BootFilesResult {
  /** The kernel written out (absolute path on the host). */
  kernel: string;
  /** The initrd written out, or null when the entry has none. */
  initrd: string | null;
  /** The kernel's arguments ("" when none). */
  args: string;
  /** The menu entry's index (from 0). */
  entry: number;
  /** The menu entry's title. */
  title: string;
  /** The configuration file's path inside the filesystem. */
  config: string;
  /** The partition it was found on (0: the whole disk). */
  partition: number;
  /** The paths inside the filesystem. */
  image: { kernel: string; initrd: string | null };
  /** Sizes of what was written, in bytes. */
  bytes: { kernel: number; initrd: number | null };
}

function outputName(path: string, fallback: string): string {
  const name = posix.basename(path);
  return name === "" || name === "." || name === ".." || name.includes("\0") ? fallback : name;
}

async function writeAtomically(
  reader: FilesystemReader,
  path: string,
  target: string,
): Promise<number> {
  const ino = await reader.lookup(path);
  const temp = resolve(
    posix.dirname(target),
    `.${posix.basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
  const handle = await open(temp, "wx", 0o644);
  let bytes = 0;
  try {
    for await (const chunk of reader.fileChunks(ino)) {
      let at = 0;
      while (at < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, at, chunk.length - at, bytes + at);
        at += bytesWritten;
      }
      bytes += chunk.length;
    }
    await handle.sync();
    await handle.close();
    await rename(temp, target);
    return bytes;
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Does what Xen's pygrub does, without Xen: finds grub.cfg or menu.lst in
 * the image ({@linkcode findBootConfig}), picks the entry (the default, or
 * `options.entry`), and copies its kernel and initrd into `options.outDir`
 * under their own names, each written to a temporary file and renamed, never
 * outside the directory. Both files are checked before anything is written.
 * Throws {@linkcode BootFilesError}: `no-config`, `no-entry`, `no-kernel`
 * (the entry names none) or `missing-file` (it names a file that is not there).
 *
 * @param image Path of a raw disk image (or of a bare filesystem image).
 * @returns The host paths written, the arguments, the entry and the config.
 *
 * @example The kernel, initrd and arguments of an image
 * ```ts
 * import assert from "node:assert/strict";
 * import { readFile } from "node:fs/promises";
 * import { bootFiles } from "@bigfile/bigfile";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { build } from "@bigfile/bigfile";
 * await mkdir("rootfs/etc", { recursive: true });
 * await writeFile("rootfs/etc/hostname", "demo\n");
 * await writeFile("vmlinuz", "not a real kernel\n");
 * await writeFile("initrd.img", "not a real initrd\n");
 * await build({ output: "disk.img", size: "auto", rootfs: ["rootfs/"], kernel: "vmlinuz", initrd: "initrd.img" });
 * const boot = await bootFiles("disk.img", { outDir: "boot" }); // what pygrub does, without Xen
 * assert.equal(await readFile(boot.kernel, "utf8"), "not a real kernel\n"); // /abs/boot/vmlinuz
 * assert.ok(boot.initrd?.endsWith("/boot/initrd.img"));
 * assert.equal(boot.args, "root=/dev/sda1 ro");
 * ```
 */
export async function bootFiles(
  image: string,
  options: BootFilesOptions = {},
): Promise<BootFilesResult> {
  const cwd = options.cwd ?? process.cwd();
  const disk = await openDisk(resolve(cwd, image));
  try {
    const found = await findBootConfig(disk);
    let index: number;
    try {
      index = pickMenuEntry(found.menu, options.entry);
    } catch (error) {
      throw new BootFilesError("no-entry", `${found.config}: ${firstLine(error)}`);
    }
    const entry = found.menu.entries[index] as GrubMenuEntry;
    const where = `${found.config} entry ${index} '${entry.title}'`;
    if (!entry.kernel) throw new BootFilesError("no-kernel", `${where} names no kernel`);
    for (const [what, path] of [
      ["kernel", entry.kernel],
      ["initrd", entry.initrd],
    ] as const) {
      if (path !== undefined && !(await isRegularFile(found.reader, path))) {
        throw new BootFilesError(
          "missing-file",
          `${where} names the ${what} ${path}, which is not a file in ${describeVolume(found.volume)}`,
        );
      }
    }
    const dir = resolve(cwd, options.outDir ?? ".");
    const kernelName = outputName(entry.kernel, "kernel");
    let initrdName = entry.initrd === undefined ? undefined : outputName(entry.initrd, "initrd");
    if (initrdName === kernelName) initrdName = `initrd-${initrdName}`;
    const kernel = resolve(dir, kernelName);
    const initrd = initrdName === undefined ? null : resolve(dir, initrdName);
    const bytes: BootFilesResult["bytes"] = {
      kernel: (await found.reader.stat(entry.kernel)).size,
      initrd: entry.initrd === undefined ? null : (await found.reader.stat(entry.initrd)).size,
    };
    if (options.write !== false) {
      await mkdir(dir, { recursive: true });
      bytes.kernel = await writeAtomically(found.reader, entry.kernel, kernel);
      if (entry.initrd !== undefined && initrd !== null) {
        bytes.initrd = await writeAtomically(found.reader, entry.initrd, initrd);
      }
    }
    return {
      kernel,
      initrd,
      args: entry.args,
      entry: index,
      title: entry.title,
      config: found.config,
      partition: found.volume.partition,
      image: { kernel: entry.kernel, initrd: entry.initrd ?? null },
      bytes,
    };
  } finally {
    await disk.close();
  }
}
