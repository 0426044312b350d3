import { findDataRuns } from "@bigfile/blockdev/node";

import type { ContentRef } from "./_tree.ts";

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
 * than their size) and for tar bodies. blockdev's `findDataRuns` does the
 * reading (around the page cache for big files that are mostly holes).
 */
export function scanHoles(file: ScanTarget): number[] | undefined {
  const { content, size, allocated } = file;
  const source = content.source;
  if (!source) throw new TypeError(`Cannot look for holes in ${content.label}: it is no file`);
  try {
    return findDataRuns(source.path, { offset: source.offset, size, allocated });
  } catch (error) {
    throw new RangeError(`Cannot read ${content.label}: ${(error as Error).message}`);
  }
}
