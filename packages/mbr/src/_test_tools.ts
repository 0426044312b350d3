// Small test helpers: scratch directories, sparse files, reads at offsets, a seeded RNG.
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A scratch directory removed by the returned cleanup function. */
export function scratchDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Creates (or resets) a sparse file of `bytes` bytes, all zeros. */
export function sparseFile(path: string, bytes: number): string {
  const fd = openSync(path, "w");
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

/** Reads `length` bytes at `offset` of a file. */
export function readAt(path: string, offset: number, length: number): Uint8Array {
  const fd = openSync(path, "r");
  const buf = new Uint8Array(length);
  readSync(fd, buf, 0, length, offset);
  closeSync(fd);
  return buf;
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
