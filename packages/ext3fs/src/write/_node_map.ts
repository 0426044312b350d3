/**
 * The map of one object's blocks, whichever the filesystem uses: a classic
 * block map (ext2/ext3) or extents (ext4). Both give the i_block words, the
 * blocks the object takes, and its layout in D-space order.
 */
import { inodeChecksumSeed } from "../format/_checksums.ts";
import { BlockMap, type BlockPresence, type LayoutItem } from "./_block_map.ts";
import { ExtentMap, type SpaceView } from "./_extent_map.ts";
import type { Geometry } from "./geometry.ts";

/** How objects are written: what the features decide per inode. */
export interface NodeFormat {
  /** Extents (ext4's `extent`) instead of block maps. */
  extents: boolean;
  /** The filesystem's checksum seed with metadata_csum, else undefined. */
  csumSeed: number | undefined;
  /** Directories past 65000 links get a count of 1 (dir_nlink). */
  dirNlink: boolean;
}

/** The block-map format: ext2/ext3. */
export const CLASSIC_FORMAT: NodeFormat = { extents: false, csumSeed: undefined, dirNlink: false };

/** One object's map, placed at D-space index `d0`. */
export interface NodeMap {
  /** Blocks taken: data plus map or tree blocks. */
  readonly totalBlocks: number;
  /** The 15 i_block words. */
  iBlock(): Uint32Array;
  /** Data runs and map blocks in D-space order (map blocks with their contents). */
  layout(): Iterable<LayoutItem>;
}

/** What placing a map needs. */
export interface MapContext extends SpaceView {
  geo: Pick<Geometry, "addrPerBlock" | "blockSize">;
  format: NodeFormat;
}

/** The map of inode `ino`'s blocks (`presence`), placed from D-space index `d0`. */
export function nodeMap(
  context: MapContext,
  presence: BlockPresence,
  d0: number,
  ino: number,
): NodeMap {
  const { geo, format } = context;
  if (format.extents) {
    const map = new ExtentMap(presence, d0, context, geo.blockSize);
    const seed = format.csumSeed;
    return {
      totalBlocks: map.totalBlocks,
      iBlock: () => map.iBlock(),
      layout: () => map.layout(seed === undefined ? undefined : inodeChecksumSeed(seed, ino, 0)),
    };
  }
  const map = new BlockMap(geo.addrPerBlock, presence);
  const phys = (p: number) => context.phys(d0 + p);
  return {
    totalBlocks: map.totalBlocks,
    iBlock: () => map.iBlock(phys),
    layout: () => map.layout(phys),
  };
}

/**
 * Blocks an object of `presence` takes where position does not matter
 * (measuring): the block map's count, or the data plus the extent tree it
 * needs with no breaks but holes.
 */
export function mapBlocksAnywhere(
  format: Pick<NodeFormat, "extents">,
  geo: Pick<Geometry, "addrPerBlock" | "blockSize">,
  presence: BlockPresence,
): number {
  if (!format.extents) return new BlockMap(geo.addrPerBlock, presence).totalBlocks;
  return new ExtentMap(presence, 0, UNBROKEN, geo.blockSize).totalBlocks;
}

/** D-space without breaks: for counts that do not depend on where an object lands. */
const UNBROKEN: SpaceView = { phys: (d) => d, blocksLeftInGroup: () => Number.POSITIVE_INFINITY };
