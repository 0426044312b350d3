import { statSync } from "node:fs";
import { open } from "node:fs/promises";
import { findDataRuns, zeros } from "@bigfile/blockdev";
import type { RawImage } from "./image_sink.ts";

const UNIT = 1024; // findDataRuns' unit
const CHUNK = 1 << 20;

/**
 * A raw image file as a {@linkcode RawImage} whose holes are known: the file
 * is scanned once, now, for its non-zero 1 KiB units (around the page cache
 * when it is big and mostly unallocated), which become its `dataRuns`; then
 * only the data is read, the rest comes as views of one shared zero buffer,
 * which writers skip. A file that is mostly data is read whole, as one run.
 *
 * @example Usage
 * ```ts
 * import { rawFileImage, writeImage, writeImageFile } from "@bigfile/vdisk";
 * const image = rawFileImage("big.img");
 * await writeImageFile("big.qcow2", (sink) => writeImage(image, "qcow2", sink));
 * ```
 */
export function rawFileImage(path: string): RawImage {
  const stat = statSync(path);
  if (!stat.isFile())
    throw new TypeError(`Cannot read '${path}' as a raw image: not a regular file`);
  const size = stat.size;
  const allocated = stat.blocks * 512;
  // undefined: every unit holds data (or the file is dense): read it all.
  const runs = allocated < size / 2 ? findDataRuns(path, { size, allocated }) : undefined;
  const image: RawImage = { size, data: rawFileChunks(path, size, runs) };
  if (runs) {
    const bytes: number[] = [];
    for (let i = 0; i < runs.length; i += 2) {
      const start = (runs[i] as number) * UNIT;
      bytes.push(start, Math.min(size, start + (runs[i + 1] as number) * UNIT) - start);
    }
    image.dataRuns = bytes;
  } else {
    // Mostly data: one run (its zero clusters are allocated when tables are planned up front).
    image.dataRuns = size > 0 ? [0, size] : [];
  }
  return image;
}

async function* rawFileChunks(
  path: string,
  size: number,
  runs: number[] | undefined,
): AsyncGenerator<Uint8Array> {
  const handle = await open(path, "r");
  const buffer = new Uint8Array(CHUNK);
  const readRange = async function* (from: number, to: number) {
    for (let at = from; at < to; at += CHUNK) {
      const want = Math.min(CHUNK, to - at);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(buffer, got, want - got, at + got);
        if (bytesRead === 0)
          throw new RangeError(`Cannot read '${path}': it shrank while being read`);
        got += bytesRead;
      }
      yield buffer.subarray(0, want);
    }
  };
  const zeroRange = function* (from: number, to: number) {
    for (let at = from; at < to; at += CHUNK) yield zeros(Math.min(CHUNK, to - at));
  };
  try {
    if (!runs) {
      yield* readRange(0, size);
      return;
    }
    let position = 0;
    for (let i = 0; i < runs.length; i += 2) {
      const start = (runs[i] as number) * UNIT;
      const end = Math.min(size, start + (runs[i + 1] as number) * UNIT);
      yield* zeroRange(position, start);
      yield* readRange(start, end);
      position = end;
    }
    yield* zeroRange(position, size);
  } finally {
    await handle.close();
  }
}
