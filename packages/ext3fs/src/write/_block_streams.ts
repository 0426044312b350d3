/**
 * Block streams: the blocks of one object (a directory, a file, the journal)
 * in D-space order, map blocks included, packed with a {@linkcode Packer}.
 */
import { Jbd2 } from "../format/constants.ts";
import { encodeJournalSuperblock } from "../format/journal_superblock.ts";
import { BlockMap, BlockPresence } from "./_block_map.ts";
import { dirEntries, htreeLayoutOf, type NodePlan, plannedEntry } from "./_build_inode.ts";
import { type PlannedEntry, packDirectory, writeDirBlock } from "./_dir_pack.ts";
import { writeHtreeNode, writeHtreeRoot } from "./_htree.ts";
import { presenceFor } from "./_measure.ts";
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
      const block = packer.take(bs);
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

/** The blocks of directory row `node` (data and map blocks, in D-space order). */
export function* dirBlocks(plan: NodePlan, node: number, packer: Packer): Generator<Uint8Array> {
  const geo = plan.geo;
  const bs = geo.blockSize;
  const ino = plan.inoOf[node] as number;
  const d0 = plan.d0[node] as number;
  const map = new BlockMap(geo.addrPerBlock, new BlockPresence(plan.dirData[node] as number));
  let blockAt: (logical: number, block: Uint8Array) => void;
  if (plan.indexed[node]) {
    const indexed = htreeLayoutOf(plan.tree, node, plan.hashSeed, bs) as NonNullable<
      ReturnType<typeof htreeLayoutOf>
    >;
    const layout = indexed.layout;
    const entries: PlannedEntry[] = Array.from(indexed.entries, (e) => plannedEntry(plan, e));
    blockAt = (logical, block) => {
      if (logical === 0) writeHtreeRoot(layout, ino, plan.parent[node] as number, block);
      else if (logical <= layout.nodes) writeHtreeNode(layout, logical - 1, block);
      else {
        const leaf = logical - 1 - layout.nodes;
        writeDirBlock(
          entries,
          layout.leafStarts[leaf] as number,
          layout.leafStarts[leaf + 1] as number,
          block,
        );
      }
    };
  } else {
    const entries = dirEntries(plan, node);
    const starts = packDirectory(
      entries.map((e) => e.name.length),
      bs,
    );
    blockAt = (logical, block) => {
      const from = logical < starts.length ? (starts[logical] as number) : 0;
      const to =
        logical < starts.length
          ? ((starts[logical + 1] as number | undefined) ?? entries.length)
          : 0;
      writeDirBlock(entries, from, to, block);
    };
  }
  let logical = 0;
  for (const item of map.layout((p) => plan.phys(d0 + p))) {
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
  const d0 = plan.d0[node] as number;
  const size = plan.tree.size[node] as number;
  const map = new BlockMap(plan.geo.addrPerBlock, presenceFor(plan.tree, node, bs));
  if (copied) {
    // The copier writes the contents straight into the output; the stream
    // carries its map blocks, and holes where the data goes.
    for (const item of map.layout((p) => plan.phys(d0 + p))) {
      if (item.kind === "map") pointerBlock(item.pointers, packer.take(bs));
      else packer.hole(item.count * bs);
      if (packer.out.length > 0) yield* packer.out.splice(0);
    }
    return;
  }
  const content = plan.tree.content(node, contentFactory);
  await content.open?.();
  try {
    for (const item of map.layout((p) => plan.phys(d0 + p))) {
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
