/**
 * Measuring: what a tree, a directory or a file needs at a block size (data
 * and map blocks, inodes), checked against what ext2/ext3 can store.
 */
import { BlockMap, BlockPresence, maxMappedBlocks } from "./_block_map.ts";
import { packDirectory } from "./_dir_pack.ts";
import { fileSizeCheck, fileSizeError, symlinkCheck } from "./_errors.ts";
import { type FsTree, NodeKind } from "./_tree.ts";
import type { Geometry } from "./geometry.ts";

/** Which blocks of file `n` hold data at a block size: converts its 1 KiB runs to block runs. */
export function presenceFor(tree: FsTree, n: number, blockSize: number): BlockPresence {
  const logical = Math.ceil((tree.size[n] as number) / blockSize);
  const r = tree.dataRuns.get(n);
  if (!r) return new BlockPresence(logical);
  const k = blockSize / 1024;
  const runs: number[] = [];
  for (let i = 0; i < r.length; i += 2) {
    const s = Math.floor((r[i] as number) / k);
    const e = Math.ceil(((r[i] as number) + (r[i + 1] as number)) / k);
    const last = runs.length - 2;
    if (last >= 0 && (runs[last] as number) + (runs[last + 1] as number) >= s) {
      runs[last + 1] = Math.max(runs[last + 1] as number, e - (runs[last] as number));
    } else runs.push(s, e - s);
  }
  return new BlockPresence(logical, runs);
}

/** The lost+found size mke2fs makes: 16 KiB, at most 12 blocks... at least 2 blocks' worth as mke2fs does. */
export function lostFoundBlocks(blockSize: number): number {
  return Math.min(12, Math.max(1, Math.floor(16384 / blockSize)));
}

function dirEntryNameLengths(tree: FsTree, dir: number): number[] {
  const lengths = [1, 2];
  for (let e = tree.head[dir] as number; e; e = tree.entryNext[e] as number)
    lengths.push(tree.entryNameLength[e] as number);
  return lengths;
}

export function dirBlocks(tree: FsTree, dir: number, blockSize: number): number {
  return Math.max(
    packDirectory(dirEntryNameLengths(tree, dir), blockSize).length,
    tree.minBlocks.get(dir) ?? 0,
  );
}

/** What a tree needs at a block size: data blocks (including map blocks) and inodes. */
export function measureTree(tree: FsTree, blockSize: number): { blocks: number; inodes: number } {
  const apb = blockSize / 4;
  let blocks = 0;
  let inodes = 0;
  tree.forEachReachable((n) => {
    inodes++;
    const kind = tree.kind[n];
    if (kind === NodeKind.DIR) {
      blocks += new BlockMap(apb, new BlockPresence(dirBlocks(tree, n, blockSize))).totalBlocks;
    } else if (kind === NodeKind.FILE) {
      blocks += new BlockMap(apb, presenceFor(tree, n, blockSize)).totalBlocks;
    } else if (kind === NodeKind.SYMLINK && (tree.size[n] as number) >= 60) {
      blocks += 1;
    }
  });
  return { blocks, inodes };
}

/** Blocks (data and map) of a directory of `data` blocks, with `apb` addresses per block. */
export function dirMapBlocks(apb: number, data: number): number {
  return new BlockMap(apb, new BlockPresence(data)).totalBlocks;
}

/**
 * The blocks (data and map) a non-directory `node` takes, after the checks
 * mkfs makes (size a block map can address, symlink target length).
 */
export function nodeBlocks(tree: FsTree, node: number, geo: Geometry, path: () => string): number {
  const kind = tree.kind[node];
  const bs = geo.blockSize;
  if (kind === NodeKind.FILE) {
    const presence = presenceFor(tree, node, bs);
    const size = tree.size[node] as number;
    if (presence.logicalBlocks > maxMappedBlocks(geo.addrPerBlock))
      throw fileSizeError(path(), size, bs);
    const error = fileSizeCheck(size, bs, path);
    if (error) throw error;
    return new BlockMap(geo.addrPerBlock, presence).totalBlocks;
  }
  if (kind === NodeKind.SYMLINK) {
    const length = tree.size[node] as number;
    const error = symlinkCheck(length, bs);
    if (error) throw error;
    return length < 60 ? 0 : 1;
  }
  return 0;
}
