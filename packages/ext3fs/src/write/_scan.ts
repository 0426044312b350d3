import { isZero } from "@bigfile/blockdev";
import type { FsNode } from "./tree.ts";

const SCAN_CHUNK = 1 << 20;

/**
 * Reads a regular file once to find its all-zero 1 KiB blocks, which become
 * holes (as mke2fs -d does). Sets `node.dataRuns` (in 1 KiB units) only when
 * the file has holes. Also proves the file is readable before any output.
 */
export async function scanHoles(node: FsNode, buffer: Uint8Array = new Uint8Array(SCAN_CHUNK)): Promise<void> {
  const content = node.content;
  if (!content || node.size === 0) return;
  const runs: number[] = [];
  let runStart = -1;
  let unit = 0;
  await content.open?.();
  try {
    for (let position = 0; position < node.size; ) {
      const want = Math.min(buffer.length, node.size - position);
      let got = 0;
      while (got < want) {
        const r = await content.read(position + got, buffer.subarray(got, want));
        if (r <= 0) break;
        got += r;
      }
      if (got < want) {
        throw new RangeError(`Cannot read ${content.label}: it ended at ${position + got} bytes, expected ${node.size}`);
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
  if (runs.length === 2 && runs[0] === 0 && runs[1] === units) return;
  node.dataRuns = runs;
}
