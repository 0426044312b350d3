/**
 * Block streams: the blocks of one object (a directory, a file, the journal)
 * in D-space order, map blocks included, packed with a {@linkcode Packer}.
 */
import { dirLeafChecksum, dxNodeChecksum, inodeChecksumSeed } from "../format/_checksums.ts";
import { Jbd2 } from "../format/constants.ts";
import { encodeJournalSuperblock } from "../format/journal_superblock.ts";
import { BlockMap, BlockPresence } from "./_block_map.ts";
import { dirEntries, htreeLayoutOf, mapOf, type NodePlan, plannedEntry } from "./_build_inode.ts";
import { type PlannedEntry, packDirectory, writeDirBlock } from "./_dir_pack.ts";
import { writeHtreeNode, writeHtreeRoot } from "./_htree.ts";
import { CHUNK, type Packer, pointerBlock } from "./_packer.ts";
import type { Plan } from "./_plan.ts";
import type { ContentFactory } from "./_tree.ts";

/** The journal's blocks (map blocks, its superblock, zeros) in D-space order. */
export function* journalBlocks(
  plan: Pick<Plan, "geo" | "journalD0" | "phys">,
  uuid: Uint8Array,
  packer: Packer,
): Generator<Uint8Array> {
  const geo = plan.geo;
  const bs = geo.blockSize;
  const d0 = plan.journalD0;
  const map = new BlockMap(geo.addrPerBlock, new BlockPresence(geo.journalBlocks));
  for (const item of map.layout((p) => plan.phys(d0 + p))) {
    if (item.kind === "map") {
      pointerBlock(item.pointers, packer.take(bs));
      continue;
    }
    let left = item.count;
    if (item.logical === 0) {
      journalSuperblock(geo, uuid, packer.take(bs));
      left--;
    }
    if (left > 0) {
      packer.zero(left * bs);
      yield* packer.out.splice(0);
    }
  }
  packer.flush();
  yield* packer.out.splice(0);
}

/** The journal's first block: its JBD2 v2 superblock, empty, as mke2fs writes it. */
export function journalSuperblock(
  geo: Pick<Plan["geo"], "blockSize" | "journalBlocks">,
  uuid: Uint8Array,
  block: Uint8Array,
): void {
  const bs = geo.blockSize;
  encodeJournalSuperblock(
    {
      magic: Jbd2.MAGIC,
      blocktype: Jbd2.SUPERBLOCK_V2,
      sequence: 0,
      blocksize: bs,
      maxlen: geo.journalBlocks,
      first: 1,
      sSequence: 1,
      start: 0,
      errno: 0,
      featureCompat: 0,
      featureIncompat: 0,
      featureRoCompat: 0,
      uuid,
      nrUsers: 1,
      dynsuper: 0,
      maxTransaction: 0,
      maxTransData: 0,
      checksumType: 0,
      numFcBlocks: 0,
      checksum: 0,
      users: new Uint8Array(0),
    },
    block,
  );
}

/**
 * The blocks of a journal outside D-space (extent filesystems) that are not
 * zeros, by block number: its superblock and its extent leaves.
 */
export function outsideJournal(
  plan: Pick<Plan, "geo" | "journalOutside">,
  uuid: Uint8Array,
): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const journal = plan.journalOutside;
  if (!journal) return out;
  journal.treeBlocks.forEach((b, k) => {
    out.set(b, journal.leafBytes[k] as Uint8Array);
  });
  const first = journal.runs[0];
  if (first) {
    const block = new Uint8Array(plan.geo.blockSize);
    journalSuperblock(plan.geo, uuid, block);
    out.set(first[0], block);
  }
  return out;
}

/** The blocks of directory row `node` (data and map blocks, in D-space order). */
export function* dirBlocks(plan: NodePlan, node: number, packer: Packer): Generator<Uint8Array> {
  const geo = plan.geo;
  const bs = geo.blockSize;
  const ino = plan.inoOf[node] as number;
  const csumSeed = plan.format.csumSeed;
  const tail = csumSeed !== undefined;
  const seed = tail ? inodeChecksumSeed(csumSeed, ino, 0) : 0;
  let blockAt: (logical: number, block: Uint8Array) => void;
  if (plan.indexed[node]) {
    const indexed = htreeLayoutOf(plan.tree, node, plan.hashSeed, bs, tail) as NonNullable<
      ReturnType<typeof htreeLayoutOf>
    >;
    const layout = indexed.layout;
    const entries: PlannedEntry[] = Array.from(indexed.entries, (e) => plannedEntry(plan, e));
    blockAt = (logical, block) => {
      if (logical === 0) {
        writeHtreeRoot(layout, ino, plan.parent[node] as number, block);
        if (tail) dxTail(block, 32, layout.rootLimit, seed);
      } else if (logical <= layout.nodes) {
        writeHtreeNode(layout, logical - 1, block);
        if (tail) dxTail(block, 8, layout.nodeLimit, seed);
      } else {
        const leaf = logical - 1 - layout.nodes;
        writeDirBlock(
          entries,
          layout.leafStarts[leaf] as number,
          layout.leafStarts[leaf + 1] as number,
          tail ? block.subarray(0, bs - 12) : block,
        );
        if (tail) leafTail(block, seed);
      }
    };
  } else {
    const entries = dirEntries(plan, node);
    const starts = packDirectory(
      entries.map((e) => e.name.length),
      tail ? bs - 12 : bs,
    );
    blockAt = (logical, block) => {
      const from = logical < starts.length ? (starts[logical] as number) : 0;
      const to =
        logical < starts.length
          ? ((starts[logical + 1] as number | undefined) ?? entries.length)
          : 0;
      writeDirBlock(entries, from, to, tail ? block.subarray(0, bs - 12) : block);
      if (tail) leafTail(block, seed);
    };
  }
  let logical = 0;
  for (const item of mapOf(plan, node).layout()) {
    if (item.kind === "map") {
      pointerBlock(item.pointers, packer.take(bs));
      continue;
    }
    for (let i = 0; i < item.count; i++, logical++) {
      blockAt(logical, packer.take(bs));
      if (packer.out.length > 0) yield* packer.out.splice(0);
    }
  }
}

/** metadata_csum's last 12 bytes of a directory leaf: an empty entry (type 0xde) holding the checksum. */
function leafTail(block: Uint8Array, inodeSeed: number): void {
  const n = block.length;
  const v = new DataView(block.buffer, block.byteOffset, n);
  v.setUint32(n - 12, 0, true);
  v.setUint16(n - 8, 12, true);
  block[n - 6] = 0;
  block[n - 5] = 0xde;
  v.setUint32(n - 4, dirLeafChecksum(inodeSeed, block), true);
}

/** metadata_csum's tail of an htree root or node: after `limit` entries, a zero word and the checksum. */
function dxTail(block: Uint8Array, countOffset: number, limit: number, inodeSeed: number): void {
  const v = new DataView(block.buffer, block.byteOffset, block.length);
  const count = v.getUint16(countOffset + 2, true);
  const at = countOffset + limit * 8;
  v.setUint32(at, 0, true);
  v.setUint32(at + 4, dxNodeChecksum(inodeSeed, block, countOffset, count), true);
}

/**
 * The blocks of file row `node` in D-space order: its map blocks, and its
 * contents read with `contentFactory` (or holes, when `copied` says the
 * copier writes them).
 */
export async function* fileBlocks(
  plan: NodePlan,
  node: number,
  maxChunkBlocks: number,
  packer: Packer,
  contentFactory: ContentFactory,
  copied: boolean,
): AsyncGenerator<Uint8Array> {
  const bs = plan.geo.blockSize;
  const size = plan.tree.size[node] as number;
  const map = mapOf(plan, node);
  if (copied) {
    // The copier writes the contents straight into the output; the stream
    // carries its map blocks, and holes where the data goes.
    for (const item of map.layout()) {
      if (item.kind === "map") pointerBlock(item.pointers, packer.take(bs));
      else packer.hole(item.count * bs);
      if (packer.out.length > 0) yield* packer.out.splice(0);
    }
    return;
  }
  const content = plan.tree.content(node, contentFactory);
  await content.open?.();
  try {
    for (const item of map.layout()) {
      if (item.kind === "map") {
        pointerBlock(item.pointers, packer.take(bs));
        if (packer.out.length > 0) yield* packer.out.splice(0);
        continue;
      }
      for (let done = 0; done < item.count; ) {
        const n = Math.min(item.count - done, maxChunkBlocks);
        // Read straight into the chunk being packed (or, for big pieces, a chunk of their own).
        const big = n * bs >= CHUNK / 4;
        const buf = big ? packer.takeBig(n * bs) : packer.take(n * bs);
        const position = (item.logical + done) * bs;
        const want = Math.min(buf.length, size - position);
        let got = 0;
        while (got < want) {
          const r = await content.read(position + got, buf.subarray(got, want));
          if (r <= 0) break;
          got += r;
        }
        if (got < want) {
          throw new RangeError(
            `Cannot read ${content.label}: it ended at ${position + got} bytes, expected ${size} (changed while mkfs ran?)`,
          );
        }
        if (big) packer.push(buf);
        if (packer.out.length > 0) yield* packer.out.splice(0);
        done += n;
      }
    }
  } finally {
    await content.close?.();
  }
}
