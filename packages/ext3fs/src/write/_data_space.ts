/** D-space: the data blocks of all groups as one run of indexes, and where each index lies. */
import { type Geometry, groupLayout } from "./geometry.ts";

/** D-space: the data regions of all groups, concatenated, and where each index lies. */
export interface DataSpace {
  /** First D-space index of each group, and its count. */
  groupDataStart: Float64Array;
  groupDataCount: Float64Array;
  /** D-space blocks in all. */
  total: number;
  /** Physical block of D-space index `d`. */
  phys(d: number): number;
  /** D-space blocks from `d` to the end of its group: how far they stay physically contiguous. */
  blocksLeftInGroup(d: number): number;
}

/** The D-space of a geometry. */
export function dataSpace(geo: Geometry): DataSpace {
  const groupDataStart = new Float64Array(geo.groupCount);
  const groupDataCount = new Float64Array(geo.groupCount);
  const groupPhysStart = new Float64Array(geo.groupCount);
  let total = 0;
  for (let g = 0; g < geo.groupCount; g++) {
    const l = groupLayout(geo, g);
    groupDataStart[g] = total;
    groupDataCount[g] = Math.max(0, l.end - l.dataStart);
    groupPhysStart[g] = l.dataStart;
    total += groupDataCount[g] as number;
  }
  // Callers go through a file's blocks in order: the last group usually holds the next.
  let lastGroup = 0;
  const groupOf = (d: number): number => {
    const start = groupDataStart[lastGroup] as number;
    if (d < start || d >= start + (groupDataCount[lastGroup] as number)) {
      let lo = 0;
      let hi = geo.groupCount - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if ((groupDataStart[mid] as number) <= d) lo = mid;
        else hi = mid - 1;
      }
      lastGroup = lo;
    }
    return lastGroup;
  };
  return {
    groupDataStart,
    groupDataCount,
    total,
    phys: (d) => {
      const g = groupOf(d);
      return (groupPhysStart[g] as number) + d - (groupDataStart[g] as number);
    },
    blocksLeftInGroup: (d) => {
      const g = groupOf(d);
      return (groupDataStart[g] as number) + (groupDataCount[g] as number) - d;
    },
  };
}
