/**
 * Measuring: what a tree, a directory or a file needs at a block size (data
 * and map blocks, inodes), checked against what ext2/ext3 can store.
 */

import { BlockPresence, maxMappedBlocks } from "./_block_map.ts";
import { packDirectory } from "./_dir_pack.ts";
import { fileSizeCheck, fileSizeError, symlinkCheck } from "./_errors.ts";
import { mapBlocksAnywhere, type NodeFormat } from "./_node_map.ts";
import { type FsTree, NodeKind } from "./_tree.ts";
import { needsXattrBlock } from "./_xattrs.ts";
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

/**
 * The blocks of a linear directory: its entries packed in name order
 * (`tail`: metadata_csum's 12-byte checksum entry ends each block).
 */
export function dirBlocks(tree: FsTree, dir: number, blockSize: number, tail = false): number {
  return Math.max(
    packDirectory(dirEntryNameLengths(tree, dir), blockSize - (tail ? 12 : 0)).length,
    tree.minBlocks.get(dir) ?? 0,
  );
}

/** What a tree needs at a block size: data blocks (including map blocks) and inodes. */
export function measureTree(
  tree: FsTree,
  blockSize: number,
  format: Pick<NodeFormat, "extents" | "csumSeed">,
  inodeSize = 256,
): { blocks: number; inodes: number } {
  const geo = { addrPerBlock: blockSize / 4, blockSize };
  const tail = format.csumSeed !== undefined;
  let blocks = 0;
  let inodes = 0;
  tree.forEachReachable((n) => {
    inodes++;
    if (needsXattrBlock(tree.xattrs.get(n), inodeSize)) blocks++;
    const kind = tree.kind[n];
    if (kind === NodeKind.DIR) {
      const data = dirBlocks(tree, n, blockSize, tail);
      blocks += mapBlocksAnywhere(format, geo, new BlockPresence(data));
    } else if (kind === NodeKind.FILE) {
      blocks += mapBlocksAnywhere(format, geo, presenceFor(tree, n, blockSize));
    } else if (kind === NodeKind.SYMLINK && (tree.size[n] as number) >= 60) {
      blocks += 1;
    }
  });
  return { blocks, inodes };
}

/** Blocks (data and map) of a directory of `data` blocks, where position does not matter. */
export function dirMapBlocks(
  apb: number,
  data: number,
  format: Pick<NodeFormat, "extents"> = { extents: false },
): number {
  return mapBlocksAnywhere(
    format,
    { addrPerBlock: apb, blockSize: apb * 4 },
    new BlockPresence(data),
  );
}

/**
 * The checks mkfs makes of a non-directory `node` (size its map can
 * address, symlink target length); returns its presence (files) or the
 * blocks it takes (symlinks: 0 or 1; others 0).
 */
export function checkNode(
  tree: FsTree,
  node: number,
  geo: Geometry,
  path: () => string,
  extents: boolean,
): BlockPresence | number {
  const kind = tree.kind[node];
  const bs = geo.blockSize;
  if (kind === NodeKind.FILE) {
    const presence = presenceFor(tree, node, bs);
    const size = tree.size[node] as number;
    const addressable = extents ? 2 ** 32 - 1 : maxMappedBlocks(geo.addrPerBlock);
    if (presence.logicalBlocks > addressable) throw fileSizeError(path(), size, bs);
    const error = fileSizeCheck(size, bs, path);
    if (error) throw error;
    return presence;
  }
  if (kind === NodeKind.SYMLINK) {
    const length = tree.size[node] as number;
    const error = symlinkCheck(length, bs);
    if (error) throw error;
    return length < 60 ? 0 : 1;
  }
  return 0;
}
