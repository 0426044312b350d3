// Test helpers: scratch directories, sparse images with scattered data, file comparison, qemu-img.
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ImagePlacement, MemoryDevice } from "@bigfile/blockdev";
import { FileDevice, writeNonZeroBlocks } from "@bigfile/blockdev/node";
import { execa } from "execa";
import { nodeCodecs } from "./_node_zlib.ts";
import type { Codecs } from "./codecs.ts";
import { FdSink, writeImageFile } from "./file_sink.ts";
import type { ImageFormat } from "./image_device.ts";
import { MemorySink, type RawImage } from "./image_sink.ts";
import { openImage } from "./open_image.ts";
import { rawFileImage } from "./raw_file_image.ts";
import { allocationUnit, type WriteImageOptions, writeImage } from "./write_image.ts";

/** A scratch directory removed by the returned cleanup function. */
export function scratchDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A deterministic pseudo-random generator (mulberry32) giving floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes that are half random, half repetitive (so compression has work and wins). */
export function testBytes(random: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = i % 1024 < 512 ? (random() * 256) | 0 : (i >> 4) & 0xff;
  return out;
}

/**
 * A sparse file of `size` bytes with `pieces` runs of data at random
 * (unaligned) offsets, always including the first and last bytes.
 */
export function scatteredImage(path: string, size: number, pieces: number, seed: number): string {
  const random = rng(seed);
  const fd = openSync(path, "w");
  ftruncateSync(fd, size);
  writeSync(fd, testBytes(random, 512), 0, 512, 0);
  writeSync(fd, new Uint8Array([0xaa]), 0, 1, size - 1);
  for (let i = 0; i < pieces; i++) {
    const length = 1 + Math.floor(random() * 200_000);
    const at = Math.floor(random() * (size - length));
    writeSync(fd, testBytes(random, length), 0, length, at);
  }
  closeSync(fd);
  return path;
}

/**
 * The same scattered writes (random order, unaligned, some across `unit`
 * boundaries, some all zeros) into a raw file `NAME.raw` and, through
 * `placement`, into an image file `NAME.EXT` in `dir`; each byte is written
 * once (later writes skip what earlier ones covered). The image's sink is
 * left for the placement's `finish`, its descriptor for the caller to close.
 */
export function writeScattered(
  dir: string,
  file: { name: string; ext: string },
  size: number,
  unit: number,
  seed: number,
  placement: ImagePlacement,
) {
  const raw = join(dir, `${file.name}.raw`);
  const image = join(dir, `${file.name}.${file.ext}`);
  const random = rng(seed);
  const rawFd = openSync(raw, "w");
  const fd = openSync(image, "w");
  const sink = new FdSink(fd);
  let written = 0;
  const taken: [number, number][] = [];
  const write = (at: number, bytes: Uint8Array) => {
    writeSync(rawFd, bytes, 0, bytes.length, at);
    written += writeNonZeroBlocks(fd, bytes, at, 512, placement);
  };
  // The last and first bytes, then ranges all over the disk (their bytes made
  // only for those that are written).
  write(size - 1, new Uint8Array([0xaa]));
  write(0, testBytes(random, 512));
  taken.push([size - 1, size], [0, 512]);
  for (let i = 0; i < 300; i++) {
    const length = 1 + Math.floor(random() * 3 * unit);
    const at = Math.floor(random() * (size - length));
    if (taken.some(([a, b]) => at < b && a < at + length)) continue;
    taken.push([at, at + length]);
    write(at, i % 50 === 0 ? new Uint8Array(length) : testBytes(random, length));
  }
  ftruncateSync(rawFd, size);
  closeSync(rawFd);
  return { raw, image, sink, fd, written };
}

/** Whether two files hold the same bytes (compared in 1 MiB pieces). */
export function sameFiles(a: string, b: string): boolean {
  const fa = openSync(a, "r");
  const fb = openSync(b, "r");
  const ba = Buffer.alloc(1 << 20);
  const bb = Buffer.alloc(1 << 20);
  try {
    for (let at = 0; ; at += ba.length) {
      const na = readSync(fa, ba, 0, ba.length, at);
      const nb = readSync(fb, bb, 0, bb.length, at);
      if (na !== nb) return false;
      if (na === 0) return true;
      if (!ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/**
 * Whether the disk inside `image` (any format) equals the raw file `raw`, byte
 * for byte; a longer disk must hold only zeros past the raw file's end (formats
 * round sizes up), as `qemu-img compare` judges.
 */
export async function imageEqualsRaw(
  image: string,
  raw: string,
  codecs: Partial<Codecs> = nodeCodecs,
): Promise<boolean> {
  const device = await openImage(await FileDevice.open(image, { readOnly: true }), { codecs });
  const fd = openSync(raw, "r");
  const buffer = Buffer.alloc(1 << 20);
  try {
    let at = 0;
    const chunks = device.chunks();
    const restZero = async () => {
      for await (const chunk of chunks) if (!chunk.every((b) => b === 0)) return false;
      return true;
    };
    for await (const chunk of chunks) {
      for (let done = 0; done < chunk.length; ) {
        const want = Math.min(buffer.length, chunk.length - done);
        const n = readSync(fd, buffer, 0, want, at);
        buffer.fill(0, n, want);
        if (!buffer.subarray(0, want).equals(chunk.subarray(done, done + want))) return false;
        if (n < want) return chunk.subarray(done + n).every((b) => b === 0) && (await restZero());
        done += want;
        at += want;
      }
    }
    return readSync(fd, buffer, 0, 1, at) === 0;
  } finally {
    closeSync(fd);
    await device.close();
  }
}

/** Converts the raw file `raw` into `format` at `out` with the library. */
export async function convertFile(
  raw: string,
  format: ImageFormat,
  out: string,
  options: WriteImageOptions = {},
  how: { native?: boolean } = {},
): Promise<void> {
  const withNode = { codecs: nodeCodecs, ...options };
  // As `vdisk convert` does: zeros looked for in the output's allocation unit.
  // native false: the JavaScript path (a zero scan, the data read and written).
  const image = rawFileImage(raw, {
    zeroUnit: allocationUnit(format, options),
    ...(how.native === false ? { seekData: false } : {}),
  });
  await writeImageFile(out, (sink) => writeImage(image, format, sink, withNode));
}

/** Writes `raw` in `format` in memory and returns the image file's bytes. */
export async function toMemory(
  raw: Uint8Array,
  format: ImageFormat,
  options: WriteImageOptions = {},
): Promise<Uint8Array> {
  const sink = new MemorySink();
  const image: RawImage = { size: raw.length, data: chunksOf(raw, 100_000) };
  await writeImage(image, format, sink, { codecs: nodeCodecs, ...options });
  return sink.bytes().slice();
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** Reads the whole disk inside an in-memory image. */
export async function readBack(
  file: Uint8Array,
  codecs: Partial<Codecs> = nodeCodecs,
): Promise<Uint8Array> {
  const device = await openImage(new MemoryDevice(file, { readOnly: true }), { codecs });
  return device.read(0, device.size);
}

/** Runs qemu-img; returns exit code, stdout and stderr. */
export async function qemuImg(
  ...args: string[]
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const result = await execa("qemu-img", args, { reject: false });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Whether `disk` holds `raw` followed only by zeros (formats round sizes up to sectors or MiB). */
export function sameDisk(disk: Uint8Array, raw: Uint8Array): boolean {
  if (disk.length < raw.length) return false;
  if (!Buffer.from(disk.buffer, disk.byteOffset, raw.length).equals(raw)) return false;
  return disk.subarray(raw.length).every((b) => b === 0);
}
