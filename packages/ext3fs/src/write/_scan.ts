import { isZero } from "@bigfile/blockdev";

import type { ContentRef } from "./tree.ts";

const SCAN_CHUNK = 1 << 20;
/** Sparse files from this size up are scanned without the page cache where possible. */
const UNCACHED_MIN = 64 << 20;

/** A file to scan: its content, size, and allocated bytes in its source when known. */
export interface ScanTarget {
  content: ContentRef;
  size: number;
  allocated?: number | undefined;
}

/**
 * Reads a regular file once to find its all-zero 1 KiB blocks, which become
 * holes (as mke2fs -d does for the holes it finds). Returns the present runs
 * (in 1 KiB units, [start, count] pairs) only when the file has holes.
 * Called for files that are sparse in their source (fewer allocated bytes
 * than their size) and for tar bodies.
 */
export async function scanHoles(
  file: ScanTarget,
  buffer: Uint8Array = new Uint8Array(SCAN_CHUNK),
): Promise<number[] | undefined> {
  try {
    return await scanOnce(file, buffer, true);
  } catch (error) {
    // O_DIRECT has alignment rules some files and filesystems break (EINVAL):
    // read through the page cache instead.
    if ((error as NodeJS.ErrnoException).code !== "EINVAL") throw error;
    return await scanOnce(file, buffer, false);
  }
}

async function scanOnce(
  node: ScanTarget,
  buffer: Uint8Array,
  allowUncached: boolean,
): Promise<number[] | undefined> {
  const content = node.content;
  if (node.size === 0) return undefined;
  const runs: number[] = [];
  let runStart = -1;
  let unit = 0;
  // Big files mostly made of holes: read around the page cache.
  const uncached =
    allowUncached &&
    node.size >= UNCACHED_MIN &&
    node.allocated !== undefined &&
    node.allocated * 2 < node.size
      ? content.openUncached?.()
      : undefined;
  if (uncached) buffer = uncached;
  else await content.open?.();
  try {
    for (let position = 0; position < node.size; ) {
      const want = Math.min(buffer.length, node.size - position);
      let got = 0;
      if (uncached) {
        // Whole-buffer reads at aligned positions; the end of the file makes one short.
        while (got < want && got % 4096 === 0) {
          const r = await content.read(position + got, buffer.subarray(got));
          if (r <= 0) break;
          got = Math.min(got + r, want);
        }
      } else {
        while (got < want) {
          const r = await content.read(position + got, buffer.subarray(got, want));
          if (r <= 0) break;
          got += r;
        }
      }
      if (got < want) {
        throw new RangeError(
          `Cannot read ${content.label}: it ended at ${position + got} bytes, expected ${node.size}`,
        );
      }
      const chunkUnits = Math.ceil(got / 1024);
      if (isZero(buffer.subarray(0, got))) {
        if (runStart >= 0) {
          runs.push(runStart, unit - runStart);
          runStart = -1;
        }
        unit += chunkUnits;
        position += got;
        continue;
      }
      for (let at = 0; at < got; at += 1024, unit++) {
        const zero = isZero(buffer.subarray(at, Math.min(at + 1024, got)));
        if (!zero && runStart < 0) runStart = unit;
        if (zero && runStart >= 0) {
          runs.push(runStart, unit - runStart);
          runStart = -1;
        }
      }
      position += got;
    }
  } finally {
    await content.close?.();
  }
  if (runStart >= 0) runs.push(runStart, unit - runStart);
  const units = Math.ceil(node.size / 1024);
  if (runs.length === 2 && runs[0] === 0 && runs[1] === units) return undefined;
  return runs;
}
