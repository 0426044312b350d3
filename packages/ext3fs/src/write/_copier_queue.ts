/**
 * The copier queue: file contents handed to a {@linkcode RangeCopier} (worker
 * threads writing straight into the output), and the waits around it.
 */
import { directBlocks, mapOf, type NodePlan } from "./_build_inode.ts";
import { fileContent } from "./_content_file.ts";
import type { RangeCopier } from "./_output_options.ts";
import type { Plan } from "./_plan.ts";
import { type ContentFactory, NodeKind } from "./_tree.ts";

/**
 * Hands the copier every file's contents it can read (all but contents without
 * a `source`), in image order; returns which inodes it took.
 */
export function queueCopies(
  plan: Plan,
  copier: RangeCopier,
  contentFactory: ContentFactory,
): Uint8Array {
  const taken = new Uint8Array(plan.lastIno + 1);
  for (let ino = 11; ino <= plan.lastIno; ino++) {
    if (queueFileCopy(plan, plan.byIno[ino] as number, copier, contentFactory)) taken[ino] = 1;
  }
  copier.flush?.();
  return taken;
}

/**
 * Hands the copier the contents of file row `node` (false: not a file with
 * blocks, or contents without a `source` file, which the stream reads).
 */
export function queueFileCopy(
  plan: NodePlan,
  node: number,
  copier: RangeCopier,
  contentFactory: ContentFactory,
): boolean {
  const tree = plan.tree;
  const bs = plan.geo.blockSize;
  const d0 = plan.d0[node] as number;
  if (Number.isNaN(d0) || tree.kind[node] !== NodeKind.FILE) return false;
  const source =
    contentFactory === fileContent ? tree.source(node) : tree.content(node, contentFactory).source;
  if (!source) return false;
  const size = tree.size[node] as number;
  const direct = directBlocks(plan, node);
  const items =
    direct >= 0
      ? [{ kind: "data" as const, logical: 0, count: direct }]
      : mapOf(plan, node).layout();
  let d = d0;
  for (const item of items) {
    if (item.kind === "map") {
      d++;
      continue;
    }
    // A run of blocks stays contiguous in the image up to its group's end.
    for (let done = 0; done < item.count; ) {
      const n = Math.min(item.count - done, plan.blocksLeftInGroup(d));
      const position = (item.logical + done) * bs;
      copier.copy(
        source.path,
        source.offset + position,
        Math.min(n * bs, size - position),
        plan.phys(d) * bs,
        source.label,
      );
      d += n;
      done += n;
    }
  }
  return true;
}

/**
 * Runs `queue` (calls to the copier); if the copier refuses a call because
 * an earlier one failed, throws that failure, which the copier's `finish`
 * tells.
 */
export async function queued<T>(copier: RangeCopier, queue: () => T): Promise<T> {
  try {
    return queue();
  } catch (error) {
    await copier.finish();
    throw error;
  }
}

/**
 * Passes `chunks` on, then waits for the copier's copies: the stream ends
 * only when the image is complete. Stopped early (a failure here or in the
 * sink), it stops the copier's threads (each finishes the write it is in)
 * before the sink closes the output.
 */
export async function* withCopier(
  copier: RangeCopier | undefined,
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let finished = false;
  try {
    yield* chunks;
    await copier?.finish();
    finished = true;
  } finally {
    if (!finished) await copier?.close?.();
  }
}

/**
 * Waits for the checks (and hole scans) handed to the copier while the
 * sources were read: an unreadable file fails here, before any output.
 */
export async function checksDone(copier: RangeCopier | undefined): Promise<void> {
  try {
    await copier?.finish();
  } catch (error) {
    throw new TypeError((error as Error).message);
  }
}
