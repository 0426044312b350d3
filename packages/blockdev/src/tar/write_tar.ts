import { zeroChunks, zeros } from "../zeros.ts";
import { encodeHeader } from "./_tar_encode.ts";
import { BLOCK } from "./_tar_format.ts";
import { planSparse, sparseData } from "./_tar_sparse_write.ts";
import type { TarWriteEntry } from "./tar_header.ts";

/** Options of {@linkcode writeTar}. */
export interface WriteTarOptions {
  /**
   * Pad the archive (after its two zero end blocks) to a multiple of this
   * many bytes, as GNU tar does with its default blocking factor of 20.
   * Use 512 for no padding beyond the end blocks.
   * @default {10240}
   */
  recordSize?: number;
}

const SMALL = 64 * 1024;

/**
 * Writes a tar archive: a ustar header per member, preceded by a pax
 * extended header (`x`) when a value does not fit ustar: a path over 100
 * bytes that cannot be split into prefix and name, a long link target,
 * non-ASCII names, a size of 8 GiB or more, uid/gid over 2097151, times that
 * are fractional, negative or past 2242, `atime`/`ctime`, and xattrs
 * (`SCHILY.xattr.*`). Such numbers are also stored in GNU base-256 in the
 * ustar field. Bodies stream through (their chunks are yielded as given;
 * bodies up to 64 KiB given as bytes are copied into one chunk with their
 * header); each member is padded to 512 bytes and the archive ends with two
 * zero blocks padded to `recordSize`. A file with `sparse` ranges is written
 * as a GNU sparse member (pax format 1.0) storing only those ranges.
 *
 * Defaults: mode 0o644 (directories 0o755, symlinks 0o777), uid/gid 0,
 * empty uname/gname, mtime 0, size the length of a `Uint8Array` body.
 * Directory names get a trailing `/`; paths are written as given otherwise.
 *
 * @param entries The members, in order.
 * @param options See {@linkcode WriteTarOptions}.
 * @returns The archive's bytes.
 * @throws {TypeError} For a missing path, a NUL in a name, a streamed body without `size`.
 * @throws {RangeError} For a body whose length is not `size`, or a number that cannot be stored.
 *
 * @example Usage
 * ```ts
 * import { writeTar } from "@bigfile/blockdev";
 * const tar = ReadableStream.from(writeTar([
 *   { path: "boot", type: "directory", mtime: 1700000000 },
 *   { path: "boot/grub/grub.cfg", type: "file", body: new TextEncoder().encode("set timeout=5\n") },
 * ]));
 * ```
 */
export async function* writeTar(
  entries: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>,
  options: WriteTarOptions = {},
): AsyncGenerator<Uint8Array> {
  const recordSize = options.recordSize ?? 20 * BLOCK;
  if (!Number.isSafeInteger(recordSize) || recordSize <= 0 || recordSize % BLOCK !== 0) {
    throw new RangeError(
      `Cannot write tar archive: record size ${recordSize} is not a positive multiple of 512`,
    );
  }
  let total = 0;
  for await (const entry of entries) {
    const body = entry.body;
    if (entry.sparse !== undefined && entry.type === "file") {
      const size = entry.size ?? (body instanceof Uint8Array ? body.length : undefined);
      if (size === undefined)
        throw new TypeError(
          `Cannot write tar member '${entry.path}': a streamed body needs a size`,
        );
      const plan = planSparse(entry.path, size, entry.sparse);
      const { header } = encodeHeader(entry, plan.header);
      yield header;
      yield plan.map;
      let stored = plan.map.length;
      for await (const chunk of sparseData(entry.path, plan.ranges, checkedBody(entry, size))) {
        stored += chunk.length;
        yield chunk;
      }
      const pad = (BLOCK - (stored % BLOCK)) % BLOCK;
      if (pad > 0) yield zeros(pad);
      total += header.length + stored + pad;
      continue;
    }
    const { header, size } = encodeHeader(entry);
    if (body instanceof Uint8Array && size <= SMALL && body.length === size) {
      // Small files: header, data and padding in one chunk.
      const out = new Uint8Array(header.length + size + ((BLOCK - (size % BLOCK)) % BLOCK));
      out.set(header);
      out.set(body, header.length);
      yield out;
      total += out.length;
      continue;
    }
    yield header;
    total += header.length;
    if (size > 0) {
      yield* checkedBody(entry, size);
      total += size;
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad > 0) {
        yield zeros(pad);
        total += pad;
      }
    }
  }
  const end = 2 * BLOCK + ((recordSize - ((total + 2 * BLOCK) % recordSize)) % recordSize);
  yield* zeroChunks(end);
}

/** The entry's body, checked to be exactly `size` bytes. */
async function* checkedBody(entry: TarWriteEntry, size: number): AsyncGenerator<Uint8Array> {
  const body = entry.body;
  if (size === 0 && body === undefined) return;
  if (body === undefined) {
    throw new TypeError(`Cannot write tar member '${entry.path}': it has size ${size} but no body`);
  }
  let count = 0;
  if (body instanceof Uint8Array) {
    count = body.length;
    if (count === size) yield body;
  } else {
    for await (const chunk of body) {
      count += chunk.length;
      if (count > size) break;
      if (chunk.length > 0) yield chunk;
    }
  }
  if (count !== size) {
    throw new RangeError(
      `Cannot write tar member '${entry.path}': its body has ${count > size ? "more than" : "only"} ${Math.min(count, size)} bytes, but its size is ${size}`,
    );
  }
}
