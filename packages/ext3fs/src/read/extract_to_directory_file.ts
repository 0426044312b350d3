import { execFile } from "node:child_process";
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  ftruncateSync,
  futimesSync,
  openSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import {
  chmod,
  chown,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  symlink,
  utimes,
} from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { isZero } from "@bigfile/blockdev";
import { OutputBudget, overBudget } from "./_output_budget.ts";
import type { FilesystemReader, ReaderStat } from "./filesystem_reader.ts";

const run = promisify(execFile);

/** Options for {@linkcode extractToDirectory}. */
export interface ExtractOptions {
  /** Subtree of the filesystem to extract. @default "/" */
  path?: string;
  /** Set owners (only possible as root). @default true when running as root */
  owners?: boolean;
  /** Called for each entry that could not be created, with the reason. Without it the first problem throws. */
  onSkip?: (path: string, reason: string) => void;
}

/** What {@linkcode extractToDirectory} did. */
export interface ExtractSummary {
  directories: number;
  files: number;
  symlinks: number;
  hardLinks: number;
  specials: number;
  bytes: number;
  skipped: number;
}

const toSeconds = (t: { seconds: number; nanoseconds: number }) => t.seconds + t.nanoseconds / 1e9;

/**
 * Copies a tree out of the filesystem into `target` (created if missing):
 * files (sparse where the image has holes), directories, symlinks, hard
 * links, devices and FIFOs (with `mknod`, which needs root for devices), with
 * modes, times and — as root — owners.
 *
 * Nothing is ever written outside `target`: names are checked (no '/', NUL,
 * '.' or '..'), files are created exclusively without following symlinks,
 * and entries are only created inside directories this extraction made, so
 * a symlink planted by the image is never written through. Entries that
 * cannot be created are reported through `onSkip` and the rest goes on:
 * damaged entries (a bad block map, a size the map cannot address, data
 * that would take the output past the size of the whole filesystem) are
 * reported before anything is written for them.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, readFile, writeFile } from "node:fs/promises";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { planWrap, wrapPartition } from "@bigfile/mbr";
 * import { extractToDirectory, mkfs, openImageFile } from "@bigfile/ext3fs/node";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * // a disk like the seed's, smaller: the filesystem in partition 1 at byte 32256
 * const fsImage = await mkfs(["rootfs"], { size: 8 << 20 });
 * await writeToFile(wrapPartition(fsImage.chunks(), planWrap({ partitionSize: 8 << 20, align: "cylinder" })), "big.img");
 * const image = await openImageFile("big.img", { partition: 1 });
 * await extractToDirectory(image.reader, "out", { path: "/boot" });
 * await image.close();
 * assert.equal(await readFile("out/vmlinuz", "utf8"), "not really a kernel\n");
 * ```
 */
export async function extractToDirectory(
  fs: FilesystemReader,
  target: string,
  options: ExtractOptions = {},
): Promise<ExtractSummary> {
  const owners = options.owners ?? process.getuid?.() === 0;
  const asRoot = process.getuid?.() === 0;
  const summary: ExtractSummary = {
    directories: 0,
    files: 0,
    symlinks: 0,
    hardLinks: 0,
    specials: 0,
    bytes: 0,
    skipped: 0,
  };
  const skip = (path: string, reason: string) => {
    summary.skipped++;
    if (!options.onSkip) throw new Error(`Cannot extract '${path}': ${reason}`);
    options.onSkip(path, reason);
  };
  const madeDirs = new Set<string>();
  const dirMeta: { dest: string; st: ReaderStat }[] = [];
  const skipped: string[] = [];
  const firstPath = new Map<number, string>();
  const budget = new OutputBudget(fs);

  for await (const entry of fs.walk(options.path ?? "/", {
    onError: (where, error) => skip(where, error.message),
  })) {
    const rel = entry.relative;
    if (skipped.some((prefix) => rel.startsWith(`${prefix}/`))) continue;
    const st = entry.stat;
    const slash = rel.lastIndexOf("/");
    const parent = slash < 0 ? "" : rel.slice(0, slash);
    const name = slash < 0 ? rel : rel.slice(slash + 1);
    const dest = rel === "" ? target : join(target, rel);
    const refuse = (reason: string) => {
      skip(entry.path, reason);
      skipped.push(rel);
    };
    if (rel === "") {
      if (st.type !== "directory") {
        refuse("only a directory can be extracted into a directory; use cat for a file");
        continue;
      }
      try {
        await mkdir(target, { mode: 0o700 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const existing = await lstat(target);
        if (!existing.isDirectory())
          throw new Error(`Cannot extract into '${target}': it exists and is not a directory`);
      }
      madeDirs.add("");
      dirMeta.push({ dest, st });
      summary.directories++;
      continue;
    }
    if (
      !entry.nameValid ||
      name === "" ||
      name === "." ||
      name === ".." ||
      name.includes("/") ||
      name.includes("\0")
    ) {
      refuse("the name is not valid UTF-8 or holds '/' or NUL");
      continue;
    }
    if (!madeDirs.has(parent)) {
      refuse("its parent directory was not created");
      continue;
    }
    try {
      switch (st.type) {
        case "directory":
          await mkdir(dest, { mode: 0o700 });
          // mkdir never follows a final symlink; still, make sure it is ours.
          if (!(await lstat(dest)).isDirectory()) throw new Error("not a directory after mkdir");
          madeDirs.add(rel);
          dirMeta.push({ dest, st });
          summary.directories++;
          continue;
        case "symlink":
          await symlink(await fs.readlinkInode(st.ino), dest);
          if (owners) await lchown(dest, st.uid, st.gid);
          await lutimes(dest, toSeconds(st.atime), toSeconds(st.mtime));
          summary.symlinks++;
          continue;
        case "file": {
          const first = st.links > 1 ? firstPath.get(st.ino) : undefined;
          if (first !== undefined) {
            await link(first, dest);
            summary.hardLinks++;
            continue;
          }
          // Damage is found before anything is created: a bad map, a size
          // its map cannot address, more data than the image holds.
          const map = await fs.dataMap(st.ino);
          if (!budget.take(map.stored)) {
            refuse(overBudget(map.stored));
            continue;
          }
          await writeFile(fs, st, dest, owners);
          summary.files++;
          summary.bytes += st.size;
          if (st.links > 1) firstPath.set(st.ino, dest);
          continue;
        }
        case "char-device":
        case "block-device":
        case "fifo": {
          if (st.type !== "fifo" && !asRoot) {
            refuse(`cannot create a ${st.type} ${st.rdev?.major},${st.rdev?.minor} without root`);
            continue;
          }
          const kind =
            st.type === "fifo"
              ? ["p"]
              : [
                  st.type === "char-device" ? "c" : "b",
                  String(st.rdev?.major ?? 0),
                  String(st.rdev?.minor ?? 0),
                ];
          await run("mknod", ["-m", "600", "--", dest, ...kind]);
          const made = await lstat(dest);
          if (made.isSymbolicLink()) throw new Error("replaced by a symlink");
          if (owners) await chown(dest, st.uid, st.gid);
          await chmod(dest, st.mode & 0o7777);
          await utimes(dest, toSeconds(st.atime), toSeconds(st.mtime));
          summary.specials++;
          continue;
        }
        default:
          refuse(`a ${st.type} cannot be extracted`);
      }
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      refuse(
        e.code === "EEXIST"
          ? "the name already exists (a duplicate entry in the image)"
          : (e.message.split("\n")[0] ?? String(e)),
      );
    }
  }
  // Directory metadata last, deepest first, so that writing into them is done.
  for (const { dest, st } of dirMeta.reverse()) {
    try {
      if (owners) await chown(dest, st.uid, st.gid);
      await chmod(dest, st.mode & 0o7777);
      await utimes(dest, toSeconds(st.atime), toSeconds(st.mtime));
    } catch (error) {
      skip(dest, (error as Error).message);
    }
  }
  return summary;
}

async function writeFile(
  fs: FilesystemReader,
  st: ReaderStat,
  dest: string,
  owners: boolean,
): Promise<void> {
  // Synchronous descriptor calls: many small files cost a thread hop per call otherwise.
  const fd = openSync(
    dest,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  let done = false;
  try {
    // Only stored data is written; holes cost nothing, whatever the size.
    for await (const { offset, bytes } of fs.dataChunks(st.ino)) {
      if (isZero(bytes)) continue;
      let written = 0;
      while (written < bytes.length)
        written += writeSync(fd, bytes, written, bytes.length - written, offset + written);
    }
    // Holes were skipped: the size is set, not written.
    ftruncateSync(fd, st.size);
    if (owners) fchownSync(fd, st.uid, st.gid);
    fchmodSync(fd, st.mode & 0o7777);
    futimesSync(fd, toSeconds(st.atime), toSeconds(st.mtime));
    done = true;
  } finally {
    closeSync(fd);
    // A file that could not be written whole is not left behind half-written.
    if (!done) unlinkSync(dest);
  }
}
