/**
 * D-space: the data blocks of all groups as one run of indexes, and where
 * each index lies. Everything else is a region: superblock backups,
 * descriptors, reserved GDT blocks, bitmaps, inode tables (in their group,
 * or packed per flex group), and, on extent filesystems, the journal, which
 * mke2fs puts near the middle of the filesystem. D-space is the rest, cut
 * into segments at regions and group ends.
 */
import { type Geometry, groupLayout } from "./geometry.ts";

/** What a region of metadata holds. */
export type RegionKind = "super" | "gdt" | "rsv" | "bb" | "ib" | "it" | "journal" | "resize";

/** A run of blocks that is not D-space. */
export interface Region {
  start: number;
  count: number;
  kind: RegionKind;
  /** The group it belongs to (whose bitmap or table it is; the journal's: -1). */
  group: number;
}

/** The journal placed outside D-space (extent filesystems). */
export interface JournalPlacement {
  /** Extent-tree leaf blocks, when the journal has more than 4 extents. */
  treeBlocks: number[];
  /** The journal's data, as [first block, count] runs in logical order. */
  runs: [number, number][];
}

/** D-space: the data regions of all groups, concatenated, and where each index lies. */
export interface DataSpace {
  /** First D-space index of each group, and its count. */
  groupDataStart: Float64Array;
  groupDataCount: Float64Array;
  /** D-space blocks in all. */
  total: number;
  /** Metadata runs, sorted by block. */
  regions: Region[];
  /** The journal, when it is outside D-space. */
  journal: JournalPlacement | undefined;
  /** The resize inode's DIND block, when it is outside D-space. */
  resizeBlock: number | undefined;
  /** Physical block of D-space index `d`. */
  phys(d: number): number;
  /** D-space blocks from `d` that stay physically contiguous (to its segment's end). */
  blocksLeftInGroup(d: number): number;
}

/** How the journal is placed. */
export interface DataSpaceOptions {
  /**
   * The resize inode's DIND block placed as mke2fs places it: the first free
   * block at or after `goal` once the root and lost+found (the first `skip`
   * data blocks) are in. Where that is not the next data block (flex_bg puts
   * the goal among the tables), it leaves D-space.
   */
  resize?: { goal: number; skip: number } | undefined;
  /**
   * A journal of this many blocks placed as mke2fs places an extent-mapped
   * one: from the first block of the group near the middle with the most
   * free blocks (the first `skip` data blocks taken by the root, lost+found
   * and the resize inode's block), over the free blocks.
   */
  midJournal?: { blocks: number; skip: number; perLeaf: number } | undefined;
}

/** The regions of a geometry's group metadata, sorted. */
function metadataRegions(geo: Geometry): Region[] {
  const regions: Region[] = [];
  for (let g = 0; g < geo.groupCount; g++) {
    const l = groupLayout(geo, g);
    if (l.hasSuper) {
      regions.push({ start: l.start, count: 1, kind: "super", group: g });
      regions.push({ start: l.start + 1, count: geo.descBlocks, kind: "gdt", group: g });
      if (geo.reservedGdtBlocks > 0)
        regions.push({
          start: l.start + 1 + geo.descBlocks,
          count: geo.reservedGdtBlocks,
          kind: "rsv",
          group: g,
        });
    }
    regions.push({ start: l.blockBitmap, count: 1, kind: "bb", group: g });
    regions.push({ start: l.inodeBitmap, count: 1, kind: "ib", group: g });
    regions.push({ start: l.inodeTable, count: geo.inodeTableBlocks, kind: "it", group: g });
  }
  return regions.sort((a, b) => a.start - b.start);
}

/** Free runs between regions, cut at group ends, as [start, count] pairs. */
function freeSegments(geo: Geometry, regions: readonly Region[]): [number, number][] {
  const out: [number, number][] = [];
  let at = geo.firstDataBlock;
  const push = (from: number, to: number) => {
    while (from < to) {
      const g = Math.floor((from - geo.firstDataBlock) / geo.blocksPerGroup);
      const groupEnd = Math.min(geo.firstDataBlock + (g + 1) * geo.blocksPerGroup, to);
      out.push([from, groupEnd - from]);
      from = groupEnd;
    }
  };
  for (const r of regions) {
    push(at, r.start);
    at = Math.max(at, r.start + r.count);
  }
  push(at, geo.blocksCount);
  return out;
}

/** The group of block `b`. */
function groupOfBlock(geo: Geometry, b: number): number {
  return Math.floor((b - geo.firstDataBlock) / geo.blocksPerGroup);
}

/**
 * mke2fs's get_midpoint_journal_block: the group of the middle block; with
 * flex_bg past the first flex group, the first flex group start at or after
 * it with free blocks; else the group before, it, or the one after,
 * whichever has the most free blocks (the first on a tie).
 */
function midpointGroup(geo: Geometry, free: Float64Array): number {
  let group = groupOfBlock(geo, Math.floor((geo.blocksCount - geo.firstDataBlock) / 2));
  const flex = geo.flexBgSize;
  let start: number;
  if (flex > 0 && group > flex) {
    group &= ~(flex - 1);
    while (group < geo.groupCount && free[group] === 0) group++;
    if (group === geo.groupCount) group = 0;
    start = group;
  } else start = group > 0 ? group - 1 : group;
  const end = group + 1 < geo.groupCount ? group + 1 : group;
  group = start;
  for (let i = start + 1; i <= end; i++)
    if ((free[i] as number) > (free[group] as number)) group = i;
  return group;
}

/** Takes `count` free blocks from `goal` on (wrapping), skipping regions and `taken`. */
function takeFree(
  segments: readonly [number, number][],
  goal: number,
  count: number,
  taken: (b: number) => boolean,
): [number, number][] {
  const runs: [number, number][] = [];
  let left = count;
  const order = [
    ...segments.filter(([s, n]) => s + n > goal),
    ...segments.filter(([s, n]) => s + n <= goal),
  ];
  for (const [s, n] of order) {
    for (let b = Math.max(s, s + n > goal && s < goal ? goal : s); b < s + n && left > 0; b++) {
      if (taken(b)) continue;
      const last = runs[runs.length - 1];
      if (last && last[0] + last[1] === b) last[1]++;
      else runs.push([b, 1]);
      left--;
    }
    if (left === 0) break;
  }
  if (left > 0) throw new RangeError(`Cannot place a journal of ${count} blocks: no room`);
  return runs;
}

/** The block of the `n`th free block (0: the first), in segment order. */
function blockAfter(segments: readonly [number, number][], n: number): number {
  let left = n;
  for (const [s, c] of segments) {
    if (left < c) return s + left;
    left -= c;
  }
  return Number.POSITIVE_INFINITY;
}

/** Splits runs into extents of at most 32768 blocks (an initialized extent's limit). */
export function extentRuns(runs: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [s, n] of runs)
    for (let i = 0; i < n; i += 32768) out.push([s + i, Math.min(32768, n - i)]);
  return out;
}

/** The D-space of a geometry. */
export function dataSpace(geo: Geometry, options: DataSpaceOptions = {}): DataSpace {
  let regions = metadataRegions(geo);
  let segments = freeSegments(geo, regions);
  let journal: JournalPlacement | undefined;
  let resizeBlock: number | undefined;
  if (options.resize) {
    const { goal, skip } = options.resize;
    const at = blockAfter(segments, skip);
    const taken = (b: number) => b < at && blockAfter(segments, 0) <= b;
    const [found] = takeFree(segments, goal, 1, taken);
    if (found && found[0] !== at) {
      resizeBlock = found[0];
      regions = [...regions, { start: resizeBlock, count: 1, kind: "resize" as const, group: -1 }];
      regions.sort((a, b) => a.start - b.start);
      segments = freeSegments(geo, regions);
    }
  }
  const mid = options.midJournal;
  if (mid && mid.blocks > 0) {
    // Free blocks per group once the root, lost+found and the resize block are in.
    const free = new Float64Array(geo.groupCount);
    let skip = mid.skip - (resizeBlock !== undefined ? 1 : 0);
    const firstTaken: [number, number][] = [];
    for (const [s, n] of segments) {
      const used = Math.min(skip, n);
      if (used > 0) firstTaken.push([s, used]);
      skip -= used;
      const g = groupOfBlock(geo, s);
      free[g] = (free[g] as number) + n - used;
    }
    const taken = (b: number) => firstTaken.some(([s, n]) => b >= s && b < s + n);
    const goal = geo.firstDataBlock + midpointGroup(geo, free) * geo.blocksPerGroup;
    // More than 4 extents: leaf blocks first (taken from the same sweep), then the data.
    let leaves = 0;
    let runs = takeFree(segments, goal, mid.blocks, taken);
    for (;;) {
      const want =
        extentRuns(runs).length > 4 ? Math.ceil(extentRuns(runs).length / mid.perLeaf) : 0;
      if (want <= leaves) break;
      if (want > 4) throw new RangeError("Cannot place the journal: it needs a deeper extent tree");
      leaves = want;
      runs = takeFree(segments, goal, mid.blocks + leaves, taken);
    }
    const treeBlocks: number[] = [];
    const data: [number, number][] = [];
    for (const [s, n] of runs) {
      let k = 0;
      while (k < n && treeBlocks.length < leaves) treeBlocks.push(s + k++);
      if (k < n) data.push([s + k, n - k]);
    }
    journal = { treeBlocks, runs: data };
    for (const [s, n] of runs) regions.push({ start: s, count: n, kind: "journal", group: -1 });
    regions = regions.sort((a, b) => a.start - b.start);
    segments = freeSegments(geo, regions);
  }
  const groupDataStart = new Float64Array(geo.groupCount);
  const groupDataCount = new Float64Array(geo.groupCount);
  const segD = new Float64Array(segments.length + 1);
  const segPhys = new Float64Array(segments.length);
  let total = 0;
  let lastGroup = -1;
  segments.forEach(([s, n], i) => {
    const g = groupOfBlock(geo, s);
    while (lastGroup < g) {
      lastGroup++;
      groupDataStart[lastGroup] = total;
    }
    groupDataCount[g] = (groupDataCount[g] as number) + n;
    segD[i] = total;
    segPhys[i] = s;
    total += n;
  });
  while (lastGroup < geo.groupCount - 1) groupDataStart[++lastGroup] = total;
  segD[segments.length] = total;
  // Callers go through a file's blocks in order: the last segment usually holds the next.
  let last = 0;
  const segOf = (d: number): number => {
    if (d < (segD[last] as number) || d >= (segD[last + 1] as number)) {
      let lo = 0;
      let hi = segments.length - 1;
      while (lo < hi) {
        const m = (lo + hi + 1) >>> 1;
        if ((segD[m] as number) <= d) lo = m;
        else hi = m - 1;
      }
      last = lo;
    }
    return last;
  };
  return {
    groupDataStart,
    groupDataCount,
    total,
    regions,
    journal,
    resizeBlock,
    phys: (d) => {
      const i = segOf(d);
      return (segPhys[i] as number) + d - (segD[i] as number);
    },
    blocksLeftInGroup: (d) => (segD[segOf(d) + 1] as number) - d,
  };
}
