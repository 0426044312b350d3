import { type TarWriteEntry, writeTar } from "@bigfile/blockdev";
import type { FilesystemReader, ReaderStat } from "./filesystem_reader.ts";

/** Options for {@linkcode tarStream}. */
export interface TarStreamOptions {
  /** Called for each entry left out of the archive, with the reason. Without it the first problem throws. */
  onSkip?: (path: string, reason: string) => void;
}

const seconds = (t: { seconds: number; nanoseconds: number }) => t.seconds + t.nanoseconds / 1e9;

/**
 * A tree of the filesystem as a POSIX (pax) tar archive, written with
 * `writeTar` from `@bigfile/blockdev`: names `./`, `./etc/`, `./etc/passwd`...,
 * with modes, owners, times, hard links, symlinks, devices, FIFOs and
 * extended attributes in the user., trusted. and security. namespaces
 * (pax `SCHILY.xattr.*`; ACLs and other system. attributes are left out).
 * Sockets and names that are not valid UTF-8 are skipped and reported; a
 * file whose data cannot be read is reported and archived as zeros past the
 * fault, so the archive stays readable.
 *
 * @example Usage
 * ```ts
 * import { openImageFile, tarStream } from "@bigfile/ext3fs";
 * import { writeToFile } from "@bigfile/blockdev";
 * const image = await openImageFile("root.ext3");
 * await writeToFile(tarStream(image.reader, "/boot"), "boot.tar");
 * await image.close();
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
        if (/^(user|trusted|security)\./.test(name)) xattrs[name] = value;
      }
      if (Object.keys(xattrs).length > 0) base.xattrs = xattrs;
    } catch (error) {
      skip(entry.path, `${(error as Error).message}; archived without its extended attributes`);
    }
    switch (st.type) {
      case "directory":
        yield { ...base, type: "directory" };
        break;
      case "symlink":
        try {
          yield { ...base, type: "symlink", linkname: await fs.readlinkInode(st.ino) };
        } catch (error) {
          skip(entry.path, (error as Error).message);
        }
        break;
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
        yield { ...base, type: "file", size: st.size, body: body(fs, st, entry.path, skip) };
        if (st.links > 1) firstName.set(st.ino, base.path);
        break;
      }
      default:
        skip(entry.path, `a ${st.type} cannot be archived`);
    }
  }
}

/** A file's bytes; after a read fault, zeros up to its size (the header already promised them). */
async function* body(
  fs: FilesystemReader,
  st: ReaderStat,
  path: string,
  skip: (path: string, reason: string) => void,
): AsyncGenerator<Uint8Array> {
  let written = 0;
  try {
    for await (const chunk of fs.fileChunks(st.ino)) {
      yield chunk;
      written += chunk.length;
    }
  } catch (error) {
    skip(path, `${(error as Error).message}; the rest of the file is zeros in the archive`);
    for (let left = st.size - written; left > 0; left -= Math.min(left, 1 << 20)) {
      yield new Uint8Array(Math.min(left, 1 << 20));
    }
  }
}
