import { type TarWriteEntry, writeTar, ZERO_CHUNK_SIZE, zeros } from "@bigfile/blockdev";
import { OutputBudget, overBudget } from "./_output_budget.ts";
import type { FilesystemReader, ReaderDataMap, ReaderStat } from "./filesystem_reader.ts";

/** Options for {@linkcode tarStream}. */
export interface TarStreamOptions {
  /** Called for each entry left out of the archive, with the reason. Without it the first problem throws. */
  onSkip?: (path: string, reason: string) => void;
}

const HOLE_CHUNK = ZERO_CHUNK_SIZE;
const seconds = (t: { seconds: number; nanoseconds: number }) => t.seconds + t.nanoseconds / 1e9;

/**
 * A tree of the filesystem as a POSIX (pax) tar archive, written with
 * `writeTar` from `@bigfile/blockdev`: names `./`, `./etc/`, `./etc/passwd`...,
 * with modes, owners, times, hard links, symlinks, devices, FIFOs and
 * extended attributes in the user., trusted. and security. namespaces
 * (pax `SCHILY.xattr.*`; ACLs and other system. attributes are left out).
 * Files with holes are GNU sparse members (pax format 1.0): a hole costs
 * no bytes in the archive, whatever its size. Every entry that cannot be
 * archived is reported through `onSkip` and the archive goes on with the
 * rest: sockets, names that are not valid UTF-8, symlink targets with a NUL
 * byte, files whose block map is damaged or whose size the block map cannot
 * address, and files whose stored data would take the archive past the size
 * of the whole filesystem (blocks mapped by several files). A file whose
 * data cannot be read after its header is written is reported and archived
 * as zeros past the fault, so the archive stays readable.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createReadStream } from "node:fs";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { readTar } from "@bigfile/blockdev";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { tarStream } from "@bigfile/ext3fs";
 * import { mkfs, openImageFile } from "@bigfile/ext3fs/node";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * await writeToFile((await mkfs(["rootfs"], { size: 8 << 20 })).chunks(), "root.ext3");
 * const image = await openImageFile("root.ext3");
 * await writeToFile(tarStream(image.reader, "/boot"), "boot.tar");
 * await image.close();
 * const paths = [];
 * for await (const entry of readTar(createReadStream("boot.tar"))) paths.push(entry.path);
 * assert.deepEqual(paths, [".", "vmlinuz"]);
 * ```
 */
export function tarStream(
  fs: FilesystemReader,
  path = "/",
  options: TarStreamOptions = {},
): AsyncGenerator<Uint8Array> {
  return writeTar(tarEntries(fs, path, options));
}

async function* tarEntries(
  fs: FilesystemReader,
  path: string,
  options: TarStreamOptions,
): AsyncGenerator<TarWriteEntry> {
  const skip = (where: string, reason: string) => {
    if (!options.onSkip) throw new Error(`Cannot archive '${where}': ${reason}`);
    options.onSkip(where, reason);
  };
  const skipped: string[] = [];
  const firstName = new Map<number, string>();
  const budget = new OutputBudget(fs);
  for await (const entry of fs.walk(path, {
    onError: (where, error) => skip(where, error.message),
  })) {
    const rel = entry.relative;
    if (skipped.some((prefix) => rel.startsWith(`${prefix}/`))) continue;
    if (!entry.nameValid) {
      skip(entry.path, "the name is not valid UTF-8 or holds '/' or NUL");
      skipped.push(rel);
      continue;
    }
    const st = entry.stat;
    const base: Omit<TarWriteEntry, "type"> = {
      path: rel === "" ? "." : `./${rel}`,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: seconds(st.mtime),
    };
    try {
      const xattrs: Record<string, Uint8Array> = {};
      for (const { name, value } of await fs.xattrs(st.ino)) {
        if (!/^(user|trusted|security)\./.test(name)) continue;
        if (name.includes("=") || name.includes("\0")) {
          skip(
            entry.path,
            `its extended attribute '${name}' cannot be stored in a pax header; left out`,
          );
          continue;
        }
        xattrs[name] = value;
      }
      if (Object.keys(xattrs).length > 0) base.xattrs = xattrs;
    } catch (error) {
      skip(entry.path, `${(error as Error).message}; archived without its extended attributes`);
    }
    switch (st.type) {
      case "directory":
        yield { ...base, type: "directory" };
        break;
      case "symlink": {
        let target: string;
        try {
          target = await fs.readlinkInode(st.ino);
        } catch (error) {
          skip(entry.path, (error as Error).message);
          break;
        }
        if (target.includes("\0")) {
          skip(entry.path, "its symlink target holds a NUL byte");
          break;
        }
        yield { ...base, type: "symlink", linkname: target };
        break;
      }
      case "char-device":
      case "block-device":
        yield {
          ...base,
          type: st.type === "char-device" ? "char" : "block",
          devmajor: st.rdev?.major ?? 0,
          devminor: st.rdev?.minor ?? 0,
        };
        break;
      case "fifo":
        yield { ...base, type: "fifo" };
        break;
      case "file": {
        const first = st.links > 1 ? firstName.get(st.ino) : undefined;
        if (first !== undefined) {
          yield { ...base, type: "hardlink", linkname: first };
          break;
        }
        let map: ReaderDataMap;
        try {
          map = await fs.dataMap(st.ino);
        } catch (error) {
          skip(entry.path, (error as Error).message);
          break;
        }
        if (!budget.take(map.stored)) {
          skip(entry.path, overBudget(map.stored));
          break;
        }
        yield {
          ...base,
          type: "file",
          size: map.size,
          ...(map.stored < map.size ? { sparse: map.ranges } : {}),
          body: body(fs, st, map, entry.path, skip),
        };
        if (st.links > 1) firstName.set(st.ino, base.path);
        break;
      }
      default:
        skip(entry.path, `a ${st.type} cannot be archived`);
    }
  }
}

/**
 * A file's bytes, holes as views of the shared zero buffer. After a read
 * fault: zeros up to its size (the header already promised them); only the
 * stored ranges cost bytes, since the member is sparse when it has holes.
 */
async function* body(
  fs: FilesystemReader,
  st: ReaderStat,
  map: ReaderDataMap,
  path: string,
  skip: (path: string, reason: string) => void,
): AsyncGenerator<Uint8Array> {
  let written = 0;
  try {
    // Only the stored pieces are read; holes are zero views, never scanned.
    for await (const { offset, bytes } of fs.dataChunks(st.ino)) {
      for (let left = offset - written; left > 0; left -= Math.min(left, HOLE_CHUNK)) {
        yield zeros(Math.min(left, HOLE_CHUNK));
      }
      written = offset;
      yield bytes;
      written += bytes.length;
    }
  } catch (error) {
    skip(path, `${(error as Error).message}; the rest of the file is zeros in the archive`);
  }
  for (let left = map.size - written; left > 0; left -= Math.min(left, HOLE_CHUNK)) {
    yield zeros(Math.min(left, HOLE_CHUNK));
  }
}
