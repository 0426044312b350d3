import * as fs from "node:fs";
import { dataRegions } from "./data_regions.ts";

/** Where a file region's bytes are, for {@linkcode findDataRuns}. */
export interface DataRunsRegion {
  /** First byte of the region in the file. @default 0 */
  offset?: number;
  /** Length of the region in bytes. */
  size: number;
  /**
   * Bytes the file has allocated, if known: a big region mostly unallocated
   * is read around the page cache (O_DIRECT), so its holes cost no memory.
   */
  allocated?: number | undefined;
  /**
   * Ask the kernel where the data is (lseek SEEK_DATA, {@linkcode dataRegions})
   * and read only that; false reads the whole region. Both give the same runs.
   * @default true
   */
  seekData?: boolean;
}

/** Buffers kept between scans (one per thread). */
export interface DataRunsScratch {
  cached?: Uint8Array;
  /** A 1 MiB buffer whose memory O_DIRECT accepts, once found. */
  direct?: Uint8Array;
  zeros?: Buffer;
}

const scratch: DataRunsScratch = {};

/**
 * Reads a file region once and finds its 1 KiB units that are not all zeros:
 * [start, count] pairs in units, or undefined when every unit holds data.
 * Where the kernel tells where the data is ({@linkcode dataRegions}), only
 * that is read; otherwise the whole region, around the page cache when it is
 * big and mostly holes. Throws if the file is shorter than the region.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeSync, openSync, statSync, writeSync } from "node:fs";
 * import { findDataRuns } from "@bigfile/blockdev/node";
 * const fd = openSync("disk.raw", "w+");
 * writeSync(fd, new Uint8Array(4096).fill(1), 0, 4096, 0);
 * writeSync(fd, new Uint8Array(4096).fill(1), 0, 4096, 2 ** 31 - 4096);
 * closeSync(fd);
 * const allocated = statSync("disk.raw").blocks * 512;
 * const runs = findDataRuns("disk.raw", { size: 2 ** 31, allocated });
 * // [0, 4, 2097148, 4] (KiB): data in the first and the last 4 KiB; undefined: read it all
 * if (runs) assert.deepEqual([runs[0], runs.at(-2)], [0, 2097148]);
 * ```
 */
export function findDataRuns(
  path: string | Uint8Array,
  region: DataRunsRegion,
): number[] | undefined {
  return findDataRunsWith(
    fs,
    path,
    region.offset ?? 0,
    region.size,
    region.allocated ?? -1,
    scratch,
    region.seekData === false ? undefined : dataRegions,
  );
}

/**
 * {@linkcode findDataRuns} with everything it uses given: self-contained, so
 * its text also runs on `CopyPool`'s workers. `allocated` is -1 when unknown;
 * `regionsOf` is {@linkcode dataRegions} where it may be used.
 */
export function findDataRunsWith(
  nodeFs: typeof fs,
  path: string | Uint8Array,
  offset: number,
  size: number,
  allocated: number,
  scratch: DataRunsScratch,
  regionsOf?: (fd: number, start: number, end: number) => number[] | undefined,
): number[] | undefined {
  const chunk = 1 << 20;
  const unit = 1024;
  const bufferPath =
    typeof path === "string" ? path : Buffer.from(path.buffer, path.byteOffset, path.length);
  if (size === 0) return undefined;
  // Opens with O_DIRECT and finds (once) where in memory a buffer must sit
  // for the kernel to take it; undefined where that is not possible.
  const openDirect = (): number | undefined => {
    if (nodeFs.constants.O_DIRECT === undefined) return undefined;
    let fd: number;
    try {
      fd = nodeFs.openSync(bufferPath, nodeFs.constants.O_RDONLY | nodeFs.constants.O_DIRECT);
    } catch {
      return undefined;
    }
    if (!scratch.direct) {
      const space = new Uint8Array(chunk + 4096);
      for (let at = 0; at < 4096 && !scratch.direct; at += 8) {
        const candidate = space.subarray(at, at + chunk);
        try {
          nodeFs.readSync(fd, candidate, 0, 4096, 0);
          scratch.direct = candidate;
        } catch {}
      }
    }
    if (!scratch.direct) {
      nodeFs.closeSync(fd);
      return undefined;
    }
    return fd;
  };
  // Scans the region; with `seek`, only the parts of it the kernel says hold
  // data (widened to whole units; the rest is holes, zeros without reading),
  // or null when the kernel cannot say.
  const scan = (uncached: boolean, seek = false): number[] | undefined | null => {
    const direct = uncached ? openDirect() : undefined;
    const fd = direct ?? nodeFs.openSync(bufferPath, "r");
    scratch.cached ??= new Uint8Array(chunk);
    const buffer = direct !== undefined ? (scratch.direct as Uint8Array) : scratch.cached;
    if (!scratch.zeros) scratch.zeros = Buffer.alloc(chunk);
    const zeros = scratch.zeros;
    const runs: number[] = [];
    let runStart = -1;
    let u = 0;
    const closeRun = (): void => {
      if (runStart >= 0) {
        runs.push(runStart, u - runStart);
        runStart = -1;
      }
    };
    // Bytes [from, to) of the region; from is a whole number of units.
    const scanBytes = (from: number, to: number): void => {
      u = from / unit;
      for (let position = from; position < to; ) {
        const want = Math.min(buffer.length, to - position);
        let got = 0;
        if (direct !== undefined) {
          // Whole-buffer reads at aligned positions; the end of the file makes one short.
          while (got < want && got % 4096 === 0) {
            const r = nodeFs.readSync(
              fd,
              buffer,
              got,
              buffer.length - got,
              offset + position + got,
            );
            if (r <= 0) break;
            got = Math.min(got + r, want);
          }
        } else {
          while (got < want) {
            const r = nodeFs.readSync(fd, buffer, got, want - got, offset + position + got);
            if (r <= 0) break;
            got += r;
          }
        }
        if (got < want) {
          throw new Error(`it ended at ${position + got} bytes, expected ${size}`);
        }
        // Buffer's equals is a memcmp: far faster than a loop over the bytes.
        const view = Buffer.from(buffer.buffer, buffer.byteOffset, got);
        if (view.equals(zeros.subarray(0, got))) {
          closeRun();
          u += Math.ceil(got / unit);
          position += got;
          continue;
        }
        for (let at = 0; at < got; at += unit, u++) {
          const end = Math.min(at + unit, got);
          const zero = view[at] === 0 && view.subarray(at, end).equals(zeros.subarray(0, end - at));
          if (!zero && runStart < 0) runStart = u;
          if (zero) closeRun();
        }
        position += got;
      }
    };
    try {
      const regions = seek ? regionsOf?.(fd, offset, offset + size) : undefined;
      if (seek && !regions) return null;
      if (regions) {
        const length = nodeFs.fstatSync(fd).size - offset;
        if (length < size)
          throw new Error(`it ended at ${Math.max(0, length)} bytes, expected ${size}`);
        let scanned = 0;
        for (let i = 0; i < regions.length; i += 2) {
          const from = Math.max(
            scanned,
            Math.floor(((regions[i] as number) - offset) / unit) * unit,
          );
          const to = Math.min(
            size,
            Math.ceil(((regions[i] as number) + (regions[i + 1] as number) - offset) / unit) * unit,
          );
          if (to <= from) continue;
          if (from > scanned) closeRun();
          scanBytes(from, to);
          scanned = to;
        }
        closeRun();
      } else {
        scanBytes(0, size);
        closeRun();
      }
    } finally {
      nodeFs.closeSync(fd);
    }
    const units = Math.ceil(size / unit);
    if (runs.length === 2 && runs[0] === 0 && runs[1] === units) return undefined;
    return runs;
  };
  // Big and mostly unallocated: read around the page cache (holes would
  // fill it with zero pages).
  const uncached = offset === 0 && size >= 64 << 20 && allocated >= 0 && allocated * 2 < size;
  const found = regionsOf ? scan(false, true) : null;
  if (found !== null) return found;
  if (!uncached) return scan(false) ?? undefined;
  try {
    return scan(true) ?? undefined;
  } catch (error) {
    // O_DIRECT has alignment rules some files and filesystems break (EINVAL):
    // read through the page cache instead.
    if ((error as { code?: string }).code !== "EINVAL") throw error;
    return scan(false) ?? undefined;
  }
}
