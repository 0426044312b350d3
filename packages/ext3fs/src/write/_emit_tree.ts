/**
 * The tree writer's stream: a planned filesystem emitted in block order,
 * group by group (metadata, inode table, then data blocks).
 */
import { setInodeChecksum } from "../format/_checksums.ts";
import { emptyInode, encodeInode } from "../format/inode.ts";
import { dirBlocks, fileBlocks, journalBlocks, outsideJournal } from "./_block_streams.ts";
import { buildInode, directBlocks } from "./_build_inode.ts";
import { queueCopies, queued, withCopier } from "./_copier_queue.ts";
import {
  backupGroupsOf,
  type EmitSettings,
  fillResizeBlock,
  type GroupCounts,
  groupBitmaps,
  groupMetadata,
  reservedGdtBlock,
  superblockBlock,
} from "./_group_metadata.ts";
import type { EmitOptions, RangeCopier } from "./_output_options.ts";
import { CHUNK, Packer } from "./_packer.ts";
import type { Plan } from "./_plan.ts";
import { type ContentFactory, NodeKind } from "./_tree.ts";
import { type StoredXattr, writeInodeXattrs, xattrBlock } from "./_xattrs.ts";

/**
 * A source of data-area blocks: every run in allocation order, packed into
 * chunks of whole blocks (about 1 MiB; big file pieces pass through as their own chunks).
 */
async function* dataArea(
  plan: Plan,
  uuid: Uint8Array,
  maxChunkBlocks: number,
  reuse: boolean,
  contentFactory: ContentFactory,
  copied: Uint8Array | undefined,
): AsyncGenerator<Uint8Array> {
  const geo = plan.geo;
  const bs = geo.blockSize;
  const packer = new Packer(reuse);
  const tree = plan.tree;
  const order: number[] = [plan.byIno[2] as number];
  const lf = plan.byIno[11] as number;
  const lfIsDir = lf !== 0 && tree.kind[lf] === NodeKind.DIR;
  if (lfIsDir) order.push(lf);
  for (const node of order) {
    yield* dirBlocks(plan, node, packer);
    xattrBlockOf(plan, node, packer);
  }
  yield* packer.out.splice(0);
  if (!Number.isNaN(plan.resizeD0)) {
    fillResizeBlock(geo, packer.take(bs));
  }
  if (!Number.isNaN(plan.journalD0)) yield* journalBlocks(plan, uuid, packer);
  for (let ino = 11; ino <= plan.lastIno; ino++) {
    if (ino === 11 && lfIsDir) continue;
    const node = plan.byIno[ino] as number;
    if (Number.isNaN(plan.d0[node] as number)) {
      // No blocks of its own, but perhaps an attribute block.
      xattrBlockOf(plan, node, packer);
      if (packer.out.length > 0) yield* packer.out.splice(0);
      continue;
    }
    const kind = tree.kind[node];
    if (kind === NodeKind.DIR) yield* dirBlocks(plan, node, packer);
    else if (kind === NodeKind.SYMLINK) packer.take(bs).set(tree.target(node));
    else {
      // The common case inline (no generator per file): a hole the copier fills.
      const direct = copied?.[ino] ? directBlocks(plan, node) : -1;
      if (direct >= 0) packer.hole(direct * bs);
      else
        yield* fileBlocks(plan, node, maxChunkBlocks, packer, contentFactory, copied?.[ino] === 1);
    }
    xattrBlockOf(plan, node, packer);
    if (packer.out.length > 0) yield* packer.out.splice(0);
  }
  packer.flush();
  yield* packer.out.splice(0);
}

/** Row `node`'s attribute block, when it has one (placed right after its run). */
function xattrBlockOf(plan: Plan, node: number, packer: Packer): void {
  const at = plan.xattrAt[node] as number;
  if (Number.isNaN(at)) return;
  const geo = plan.geo;
  const xattrs = plan.tree.xattrs.get(node) as StoredXattr[];
  packer.push(
    xattrBlock(xattrs, geo.inodeSize, geo.blockSize, plan.phys(at), plan.format.csumSeed),
  );
}

/**
 * Emits the planned filesystem as a byte stream, blocks in increasing order:
 * every group's superblock backup, descriptors, reserved GDT blocks, bitmaps
 * and inode table, then its data blocks, pulling file contents only when their
 * blocks come up.
 */
export async function* emitFilesystem(
  plan: Plan,
  settings: EmitSettings,
  contentFactory: ContentFactory,
  options: EmitOptions = {},
): AsyncGenerator<Uint8Array> {
  yield* withCopier(options.copier, emitStream(plan, settings, contentFactory, options));
}

async function* emitStream(
  plan: Plan,
  settings: EmitSettings,
  contentFactory: ContentFactory,
  options: EmitOptions = {},
): AsyncGenerator<Uint8Array> {
  const geo = plan.geo;
  const bs = geo.blockSize;
  const { sb, gdt, counts } = groupMetadata(plan, settings);
  const backupGroups = backupGroupsOf(geo);
  const maxChunkBlocks = Math.max(1, CHUNK / bs);
  const reuse = options.reuseBuffers ?? false;
  // The copier starts on every file's contents now, while the metadata is written.
  const copied = options.copier
    ? await queued(options.copier, () =>
        queueCopies(plan, options.copier as RangeCopier, contentFactory),
      )
    : undefined;
  const data = dataArea(plan, settings.uuid, maxChunkBlocks, reuse, contentFactory, copied);
  let pending: Uint8Array<ArrayBufferLike> | undefined;
  const packer = new Packer(reuse);
  const inodeBytes = new Uint8Array(geo.inodeSize);
  const inode = emptyInode();
  const journal = plan.journalOutside ? outsideJournal(plan, settings.uuid) : undefined;
  const csumSeed = plan.format.csumSeed;

  /** `count` D-space blocks, pulled from the data area. */
  async function* dataBlocks(count: number): AsyncGenerator<Uint8Array> {
    let left = count;
    while (left > 0) {
      if (!pending) {
        const next = await data.next();
        if (next.done) break;
        pending = next.value;
      }
      const blocks = pending.length / bs;
      if (blocks <= left) {
        packer.push(pending);
        left -= blocks;
        pending = undefined;
      } else {
        packer.push(pending.subarray(0, left * bs));
        pending = pending.subarray(left * bs);
        left = 0;
      }
      if (packer.out.length > 0) yield* packer.out.splice(0);
    }
    if (left > 0) packer.zero(left * bs);
    if (packer.out.length > 0) yield* packer.out.splice(0);
  }

  // Blocks in increasing order: each metadata region, and the D-space between them.
  let at = geo.firstDataBlock;
  if (geo.firstDataBlock === 1) packer.zero(1024);
  const regions = [...plan.regions, { start: geo.blocksCount, count: 0, kind: "end", group: -1 }];
  for (const r of regions) {
    for (let b = at; b < r.start; ) {
      const g = Math.floor((b - geo.firstDataBlock) / geo.blocksPerGroup);
      const n = Math.min(r.start, geo.firstDataBlock + (g + 1) * geo.blocksPerGroup) - b;
      yield* dataBlocks(n);
      b += n;
    }
    at = r.start + r.count;
    const g = r.group;
    switch (r.kind) {
      case "super":
        packer.push(superblockBlock(sb, geo, g));
        break;
      case "gdt":
        packer.push(gdt);
        break;
      case "rsv":
        if (g === 0) {
          for (let k = 0; k < geo.reservedGdtBlocks; k++) {
            packer.push(reservedGdtBlock(geo, k, backupGroups));
            yield* packer.out.splice(0);
          }
        } else packer.zero(r.count * bs);
        break;
      case "bb":
      case "ib": {
        const [bb, ib] = groupBitmaps(plan, g, counts[g] as GroupCounts);
        packer.push(r.kind === "bb" ? bb : ib);
        break;
      }
      case "it": {
        const first = g * geo.inodesPerGroup + 1;
        const lastUsed = Math.min(plan.lastIno, first + geo.inodesPerGroup - 1);
        for (let ino = first; ino <= lastUsed; ino++) {
          if (buildInode(plan, ino, inode)) {
            inodeBytes.fill(0);
            encodeInode(inode, geo.inodeSize, inodeBytes);
            const xattrs = plan.tree.xattrs.get(plan.byIno[ino] as number);
            if (xattrs && !plan.special.has(ino)) writeInodeXattrs(inodeBytes, xattrs);
            if (csumSeed !== undefined) setInodeChecksum(csumSeed, ino, inodeBytes);
            packer.push(inodeBytes);
          } else packer.zero(geo.inodeSize);
          if (packer.out.length > 0) yield* packer.out.splice(0);
        }
        const usedBytes = Math.max(0, lastUsed - first + 1) * geo.inodeSize;
        packer.zero(geo.inodeTableBlocks * bs - usedBytes);
        break;
      }
      case "resize":
        fillResizeBlock(geo, packer.take(bs));
        break;
      case "journal":
        for (let b = r.start; b < r.start + r.count; b++) {
          const block = journal?.get(b);
          if (block) packer.push(block);
          else packer.zero(bs);
          if (packer.out.length > 0) yield* packer.out.splice(0);
        }
        break;
    }
    yield* packer.out.splice(0);
  }
  packer.flush();
  yield* packer.out.splice(0);
}
