import type { BlockDevice } from "@bigfile/blockdev";
import { assertInRange } from "@bigfile/blockdev";
import type { BlockRun } from "./_block_map.ts";
import type { ReaderJournalSuperblock } from "./_decode_journal.ts";
import { ExtCorruptionError } from "./errors.ts";

const MAGIC = 0xc03b3998;
const DESCRIPTOR = 1;
const COMMIT = 2;
const REVOKE = 5;
const INCOMPAT_REVOKE = 0x1;
const INCOMPAT_64BIT = 0x2;
const INCOMPAT_CSUM_V2 = 0x8;
const INCOMPAT_CSUM_V3 = 0x10;
const FLAG_ESCAPE = 0x1;
const FLAG_SAME_UUID = 0x2;
const FLAG_LAST_TAG = 0x8;

/** Where the newest journaled copy of a filesystem block lives. */
export interface OverlayBlock {
  /** Filesystem block number of the copy inside the journal. */
  source: number;
  /** The copy's first four bytes were the JBD2 magic, stored as zeros. */
  escaped: boolean;
}

/** What replaying a journal gives: the blocks to read from the journal instead of their home. */
export interface JournalOverlay {
  blocks: Map<number, OverlayBlock>;
  transactions: number;
}

/**
 * Scans a JBD2 journal from `s_start` and collects, for every committed
 * transaction in order, the journaled copies of filesystem blocks (minus the
 * revoked ones). Nothing is written. The walk is bounded by the journal's
 * length; a transaction without its commit block ends the replay.
 */
export async function replayJournal(
  jsb: ReaderJournalSuperblock,
  runs: readonly BlockRun[],
  blockSize: number,
  read: (fsBlock: number) => Promise<Uint8Array>,
  blocksCount: number,
  journalOffset: (journalBlock: number) => number,
): Promise<JournalOverlay> {
  const maxLen = jsb.maxLen;
  if (jsb.blockSize !== blockSize)
    throw new ExtCorruptionError(
      `Cannot replay the journal: its block size ${jsb.blockSize} is not the filesystem's ${blockSize}`,
      journalOffset(0) + 12,
    );
  if (jsb.first < 1 || jsb.first >= maxLen || jsb.start < jsb.first || jsb.start >= maxLen) {
    throw new ExtCorruptionError(
      `Cannot replay the journal: start ${jsb.start} or first ${jsb.first} is outside its ${maxLen} blocks`,
      journalOffset(0) + 20,
    );
  }
  const physical = (j: number): number => {
    let lo = 0;
    let hi = runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const run = runs[mid] as BlockRun;
      if (j < run.logical) hi = mid - 1;
      else if (j >= run.logical + run.length) lo = mid + 1;
      else return run.physical + (j - run.logical);
    }
    throw new ExtCorruptionError(
      `Cannot replay the journal: its block ${j} is not mapped`,
      journalOffset(0),
    );
  };
  const wrap = (j: number) => (j >= maxLen ? jsb.first + (j - maxLen) : j);
  const incompat = jsb.featureIncompat;
  const csum3 = (incompat & INCOMPAT_CSUM_V3) !== 0;
  const csum = csum3 || (incompat & INCOMPAT_CSUM_V2) !== 0;
  const wide = (incompat & INCOMPAT_64BIT) !== 0;
  const tagBytes = csum3 ? 16 : 8 + (incompat & INCOMPAT_CSUM_V2 ? 2 : 0) + (wide ? 4 : 0);

  interface Tag {
    target: number;
    source: number;
    escaped: boolean;
  }
  const transactions: { sequence: number; tags: Tag[] }[] = [];
  const revoked = new Map<number, number>();
  let sequence = jsb.sequence;
  let block = jsb.start;
  let steps = 0;
  let current: Tag[] = [];
  const pendingRevokes: number[] = [];
  const limit = maxLen - jsb.first;
  while (steps++ <= limit) {
    const home = physical(block);
    const bytes = await read(home);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (v.getUint32(0) !== MAGIC || v.getUint32(8) !== sequence) break;
    const type = v.getUint32(4);
    if (type === DESCRIPTOR) {
      const end = blockSize - (csum ? 4 : 0);
      let at = 12;
      let data = block;
      for (;;) {
        if (at + tagBytes > end) break;
        const low = v.getUint32(at);
        const flags = csum3 ? v.getUint32(at + 4) : v.getUint16(at + 6);
        const high = wide ? v.getUint32(at + (csum3 ? 8 : 8)) : 0;
        const target = low + high * 2 ** 32;
        data = wrap(data + 1);
        steps++;
        if (target >= blocksCount) {
          throw new ExtCorruptionError(
            `Cannot replay the journal: transaction ${sequence} writes block ${target}, past the filesystem's end`,
            home * blockSize + at,
          );
        }
        current.push({ target, source: physical(data), escaped: (flags & FLAG_ESCAPE) !== 0 });
        at += tagBytes + (flags & FLAG_SAME_UUID ? 0 : 16);
        if (flags & FLAG_LAST_TAG) break;
      }
      block = wrap(data + 1);
      continue;
    }
    if (type === REVOKE && incompat & INCOMPAT_REVOKE) {
      const count = Math.min(v.getUint32(12), blockSize - (csum ? 4 : 0));
      const size = wide ? 8 : 4;
      for (let at = 16; at + size <= count; at += size) {
        pendingRevokes.push(
          wide ? v.getUint32(at) * 2 ** 32 + v.getUint32(at + 4) : v.getUint32(at),
        );
      }
      block = wrap(block + 1);
      continue;
    }
    if (type === COMMIT) {
      transactions.push({ sequence, tags: current });
      for (const r of pendingRevokes) revoked.set(r, Math.max(revoked.get(r) ?? 0, sequence));
      current = [];
      pendingRevokes.length = 0;
      sequence = (sequence + 1) >>> 0;
      block = wrap(block + 1);
      continue;
    }
    break;
  }
  const blocks = new Map<number, OverlayBlock>();
  for (const t of transactions) {
    for (const tag of t.tags) {
      const revokedAt = revoked.get(tag.target);
      if (revokedAt !== undefined && revokedAt >= t.sequence) continue;
      blocks.set(tag.target, { source: tag.source, escaped: tag.escaped });
    }
  }
  return { blocks, transactions: transactions.length };
}

/**
 * A read-only view of a device with journaled blocks laid over their homes:
 * the filesystem as it will be after recovery, without writing anything.
 */
export class JournalOverlayDevice implements BlockDevice {
  readonly size: number;
  readonly sectorSize: number;
  readonly readOnly = true;
  readonly #base: BlockDevice;
  readonly #blocks: Map<number, OverlayBlock>;
  readonly #blockSize: number;

  constructor(base: BlockDevice, overlay: JournalOverlay, blockSize: number) {
    this.#base = base;
    this.#blocks = overlay.blocks;
    this.#blockSize = blockSize;
    this.size = base.size;
    this.sectorSize = base.sectorSize;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    assertInRange("read", offset, length, this.size);
    const bytes = await this.#base.read(offset, length);
    const bs = this.#blockSize;
    const first = Math.floor(offset / bs);
    const last = Math.floor((offset + length - 1) / bs);
    if (length === 0) return bytes;
    for (let b = first; b <= last; b++) {
      const over = this.#blocks.get(b);
      if (!over) continue;
      const copy = await this.#base.read(over.source * bs, bs);
      if (over.escaped) new DataView(copy.buffer, copy.byteOffset, 4).setUint32(0, MAGIC);
      const from = Math.max(offset, b * bs);
      const to = Math.min(offset + length, (b + 1) * bs);
      bytes.set(copy.subarray(from - b * bs, to - b * bs), from - offset);
    }
    return bytes;
  }

  write(): Promise<void> {
    return Promise.reject(new TypeError("Cannot write: the journal overlay is read-only"));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return this.#base.close();
  }
}
