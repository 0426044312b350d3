import { isZero } from "../zeros.ts";
import { parsePaxRecords } from "./_pax.ts";
import { decodeHeader, type Extensions, headerNumber } from "./_tar_entry.ts";
import { BLOCK, checksums, cstring, field, parseNumber } from "./_tar_format.ts";
import { TarInput } from "./_tar_input.ts";
import { readSparseLayout, sparseBody, sparseFormat } from "./_tar_sparse.ts";
import type { TarEntry } from "./tar_header.ts";
import { TarSyntaxError } from "./tar_syntax_error.ts";

/** Options of {@linkcode readTar}. */
export interface ReadTarOptions {
  /**
   * Yield members whose path or hard link target is absolute or has a `..`
   * component instead of throwing {@linkcode TarUnsafePathError}; check them
   * with {@linkcode tarPathProblem}.
   * @default {false}
   */
  allowUnsafePaths?: boolean;
  /**
   * The largest pax extended header (all `x` headers of a member together,
   * and all `g` headers together), GNU long name or sparse map accepted, in bytes.
   * @default {1048576}
   */
  maxHeaderSize?: number;
  /**
   * How much of the input after the end-of-archive block to read and
   * discard, so that a writer into a pipe (`tar c | ...`) is not cut off
   * (GNU tar drains pipes too). 0 stops at the end block.
   * @default {16777216}
   */
  drainLimit?: number;
}

/** What the reader must skip before the next header. */
interface Pending {
  /** Bytes of the member still in the archive (data, maps). */
  stored: number;
  padding: number;
  /** Set once the reader has moved past the member. */
  closed: boolean;
  path: string;
}

const MIB = 1 << 20;

/**
 * Reads a tar archive as a stream of members, each with a body that streams
 * its bytes. Reads ustar, pax (`x` and `g` headers: path, linkpath, size,
 * uid, gid, uname, gname, mtime, atime, ctime, `SCHILY.xattr.*`), GNU (long
 * names `L`/`K`, base-256 numbers, sparse members old and pax 0.0/0.1/1.0)
 * and v7 archives. Checksums are verified (signed or unsigned sums). The
 * archive ends at a zero block or at the end of the input.
 *
 * Memory stays bounded: bodies stream, and extended headers are capped by
 * `maxHeaderSize`. Paths are normalised by {@linkcode normalizeTarPath};
 * unsafe ones throw {@linkcode TarUnsafePathError} unless `allowUnsafePaths`.
 * When reading stops early (a `break`, an error), the source's iterator is
 * closed (a file stream is destroyed).
 *
 * @param source The archive's bytes (a `ReadableStream`, a Node stream, any iterable of chunks).
 * @param options See {@linkcode ReadTarOptions}.
 * @returns Members in archive order.
 * @throws {TarSyntaxError} For a corrupt or truncated archive, with the byte offset.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createReadStream, createWriteStream } from "node:fs";
 * import { pipeline } from "node:stream/promises";
 * import { readTar, writeTar } from "@bigfile/blockdev";
 * const body = new TextEncoder().encode("menuentry\n");
 * await pipeline(writeTar([{ type: "file", path: "boot/grub/grub.cfg", body }]), createWriteStream("boot.tar"));
 * const seen = [];
 * for await (const entry of readTar(createReadStream("boot.tar"))) {
 *   seen.push([entry.type, entry.path, entry.size]); // entry.body streams the bytes; skipped when not read
 * }
 * assert.deepEqual(seen, [["file", "boot/grub/grub.cfg", 10]]);
 * ```
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ReadTarOptions = {},
): AsyncGenerator<TarEntry> {
  const input = new TarInput(source);
  try {
    yield* members(input, options);
  } finally {
    await input.close();
  }
}

async function* members(input: TarInput, options: ReadTarOptions): AsyncGenerator<TarEntry> {
  const maxHeader = options.maxHeaderSize ?? MIB;
  const global = new Map<string, Uint8Array>();
  let globalBytes = 0;
  let ext: Extensions = { records: [], bytes: 0 };
  let extOffset = -1;
  let previous: Pending | undefined;

  const readMeta = async (
    size: number,
    offset: number,
    what: string,
    total: number,
  ): Promise<Uint8Array> => {
    if (total + size > maxHeader) {
      throw new TarSyntaxError(
        `Cannot read ${what} at offset ${offset}: ${total > 0 ? `with the ones before it, it is ${total + size}` : `it is ${size}`} bytes, more than the limit of ${maxHeader}`,
        offset,
      );
    }
    const bytes = await input.exactly(size, what);
    await input.skip(padding(size), what);
    return new Uint8Array(bytes); // a copy, and a plain Uint8Array even from a Buffer
  };

  for (;;) {
    if (previous) {
      previous.closed = true;
      await input.skip(previous.stored + previous.padding, `member '${previous.path}'`);
      previous = undefined;
    }
    const offset = input.position;
    if (await input.atEnd()) {
      if (extOffset >= 0) {
        throw new TarSyntaxError(
          `Cannot read tar archive: it ends at offset ${offset} after an extended header at offset ${extOffset}`,
          offset,
        );
      }
      return;
    }
    const block = await input.exactly(BLOCK, "a header block");
    if (isZero(block)) {
      if (extOffset >= 0) {
        throw new TarSyntaxError(
          `Cannot read tar archive: the extended header at offset ${extOffset} is followed by the end of the archive`,
          offset,
        );
      }
      await input.drain(options.drainLimit ?? 16 * MIB);
      return;
    }
    checkChecksum(block, offset);
    const flag = String.fromCharCode(block[156] as number);
    const size = headerNumber(block, "size", offset);

    if (flag === "x" || flag === "X" || flag === "g") {
      // X: the pax typeflag of old Solaris tars.
      const global_ = flag === "g";
      const bytes = await readMeta(
        size,
        offset,
        "a pax extended header",
        global_ ? globalBytes : ext.bytes,
      );
      const records = parsePaxRecords(bytes, offset);
      if (global_) {
        globalBytes += size;
        for (const r of records) {
          if (r.value.length === 0) global.delete(r.key);
          else global.set(r.key, r.value);
        }
      } else {
        ext.records.push(...records);
        ext.bytes += size;
        if (extOffset < 0) extOffset = offset;
      }
      continue;
    }
    if (flag === "L" || flag === "K") {
      const bytes = cstring(await readMeta(size, offset, "a GNU long name", ext.bytes));
      ext.bytes += size;
      if (flag === "L") ext.longName = bytes;
      else ext.longLink = bytes;
      if (extOffset < 0) extOffset = offset;
      continue;
    }
    if (flag === "V") {
      // A GNU volume label: not a file.
      previous = { stored: size, padding: padding(size), closed: true, path: "volume label" };
      continue;
    }
    if (flag === "M") {
      throw new TarSyntaxError(
        `Cannot read tar member at offset ${offset}: GNU multi-volume continuations are not supported`,
        offset,
      );
    }

    const entryOffset = extOffset >= 0 ? extOffset : offset;
    const decoded = decodeHeader(
      block,
      offset,
      entryOffset,
      ext,
      global,
      options.allowUnsafePaths ?? false,
    );
    const format = decoded.hasData ? sparseFormat(decoded, ext) : undefined;
    const records = ext;
    ext = { records: [], bytes: 0 };
    extOffset = -1;

    const { path } = decoded.header;
    const state: Pending = {
      stored: decoded.storedSize,
      padding: padding(decoded.storedSize),
      closed: false,
      path,
    };
    previous = state;
    const readStored = async function* (n: number): AsyncGenerator<Uint8Array> {
      for (let left = n; left > 0; ) {
        if (state.closed) {
          throw new TypeError(
            `Cannot read the body of tar member '${path}': the reader has moved past it`,
          );
        }
        const chunk = await input.upTo(Math.min(left, MIB), `member '${path}'`);
        left -= chunk.length;
        state.stored -= chunk.length;
        yield chunk;
      }
    };

    const entry: TarEntry = { ...decoded.header, body: emptyBody };
    if (decoded.flag === "D") {
      entry.size = 0; // the listing is skipped
    } else if (format) {
      const layout = await readSparseLayout(
        format,
        block,
        entryOffset,
        decoded,
        records,
        input,
        maxHeader,
      );
      state.stored -= layout.mapBytes;
      entry.size = layout.realSize;
      entry.sparse = layout.ranges;
      entry.body = onceBody(path, () => sparseBody(layout, readStored));
    } else if (decoded.storedSize > 0) {
      entry.body = onceBody(path, () => readStored(decoded.storedSize));
    }
    yield entry;
  }
}

const emptyBody: AsyncIterable<Uint8Array> = {
  async *[Symbol.asyncIterator]() {},
};

function onceBody(path: string, make: () => AsyncGenerator<Uint8Array>): AsyncIterable<Uint8Array> {
  let used = false;
  return {
    [Symbol.asyncIterator]() {
      if (used) throw new TypeError(`Cannot read the body of tar member '${path}' twice`);
      used = true;
      return make();
    },
  };
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function checkChecksum(block: Uint8Array, offset: number): void {
  const stored = parseNumber(field(block, "chksum"));
  const [unsigned, signed] = checksums(block);
  if (stored === unsigned || stored === signed) return;
  const what =
    offset === 0 ? "the input is not a tar archive or is corrupt" : "the archive is corrupt";
  throw new TarSyntaxError(
    `Cannot read tar header at offset ${offset}: checksum is ${stored === undefined ? "not a number" : `0o${stored.toString(8)}`}, expected 0o${unsigned.toString(8)} (${what})`,
    offset,
  );
}
