import { type TarHeaderEntry, tarEnd, tarHeader, tarPadding } from "./_tar_writer.ts";
import type { FilesystemReader } from "./filesystem_reader.ts";

/** Options for {@linkcode tarStream}. */
export interface TarStreamOptions {
  /** Called for each entry left out of the archive, with the reason. Without it the first problem throws. */
  onSkip?: (path: string, reason: string) => void;
}

/**
 * A tree of the filesystem as a POSIX (pax) tar archive: names `./`, `./etc/`,
 * `./etc/passwd`..., with modes, owners, times (nanoseconds in pax records),
 * hard links, symlinks, devices and FIFOs. Sockets and names that are not
 * valid UTF-8 are skipped and reported.
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
export async function* tarStream(
  fs: FilesystemReader,
  path = "/",
  options: TarStreamOptions = {},
): AsyncGenerator<Uint8Array> {
  const skip = (where: string, reason: string) => {
    if (!options.onSkip) throw new Error(`Cannot archive '${where}': ${reason}`);
    options.onSkip(where, reason);
  };
  const skipped: string[] = [];
  const firstName = new Map<number, string>();
  const walk = fs.walk(path, { onError: (where, error) => skip(where, error.message) });
  for await (const entry of walk) {
    const rel = entry.relative;
    if (skipped.some((prefix) => rel.startsWith(`${prefix}/`))) continue;
    if (!entry.nameValid) {
      skip(entry.path, "the name is not valid UTF-8 or holds '/' or NUL");
      skipped.push(rel);
      continue;
    }
    const st = entry.stat;
    const name = rel === "" ? "./" : `./${rel}${st.type === "directory" ? "/" : ""}`;
    const base = { name, mode: st.mode, uid: st.uid, gid: st.gid, size: 0, mtime: st.mtime };
    let header: TarHeaderEntry;
    switch (st.type) {
      case "directory":
        header = { ...base, type: "directory" };
        break;
      case "symlink":
        header = { ...base, type: "symlink", linkname: await fs.readlinkInode(st.ino) };
        break;
      case "char-device":
      case "block-device":
        header = {
          ...base,
          type: st.type,
          devmajor: st.rdev?.major ?? 0,
          devminor: st.rdev?.minor ?? 0,
        };
        break;
      case "fifo":
        header = { ...base, type: "fifo" };
        break;
      case "file": {
        const first = st.links > 1 ? firstName.get(st.ino) : undefined;
        if (first !== undefined) {
          header = { ...base, type: "hardlink", linkname: first };
          break;
        }
        header = { ...base, type: "file", size: st.size };
        break;
      }
      default:
        skip(entry.path, `a ${st.type} cannot be archived`);
        continue;
    }
    if (header.type === "file") {
      // Read the data first: a file that cannot be read is reported, not half-written.
      let written = 0;
      const chunks = fs.fileChunks(st.ino);
      let first: IteratorResult<Uint8Array>;
      try {
        first = await chunks.next();
      } catch (error) {
        skip(entry.path, (error as Error).message);
        continue;
      }
      yield tarHeader(header);
      try {
        if (!first.done) {
          yield first.value;
          written += first.value.length;
        }
        for await (const chunk of chunks) {
          yield chunk;
          written += chunk.length;
        }
      } catch (error) {
        // The header promised st.size bytes: fill with zeros so the archive stays readable.
        skip(
          entry.path,
          `${(error as Error).message}; the rest of the file is zeros in the archive`,
        );
        for (let left = st.size - written; left > 0; left -= Math.min(left, 1 << 20)) {
          yield new Uint8Array(Math.min(left, 1 << 20));
        }
      }
      yield tarPadding(st.size);
      if (st.links > 1) firstName.set(st.ino, name);
      continue;
    }
    yield tarHeader(header);
  }
  yield tarEnd();
}
