import { type BigIntStats, lstatSync, readdirSync, readlinkSync } from "node:fs";
import { FsTree, NodeKind, TimeField, type Timestamp } from "./tree.ts";

/** How a source's metadata is mapped into the filesystem. */
export interface SourceOwnership {
  /** All owners become 0:0. */
  squashOwners?: boolean;
  /** Time of directories mkfs creates. */
  createTime: Timestamp;
  /** Clamp times to at most this many seconds (SOURCE_DATE_EPOCH), and use mtime for atime/ctime. */
  clampTime?: number;
  /** Use mtime for atime and ctime (reproducible). */
  mtimeOnly?: boolean;
}

const BILLION = 1_000_000_000n;

function setTimeNs(tree: FsTree, n: number, field: TimeField, ns: bigint): void {
  let seconds = ns / BILLION;
  let rem = ns % BILLION;
  if (rem < 0n) {
    rem += BILLION;
    seconds -= 1n;
  }
  tree.setTime(n, field, Number(seconds), Number(rem));
}

function kindOf(st: BigIntStats): NodeKind | undefined {
  if (st.isFile()) return NodeKind.FILE;
  if (st.isDirectory()) return NodeKind.DIR;
  if (st.isSymbolicLink()) return NodeKind.SYMLINK;
  if (st.isCharacterDevice()) return NodeKind.CHAR;
  if (st.isBlockDevice()) return NodeKind.BLOCK;
  if (st.isFIFO()) return NodeKind.FIFO;
  if (st.isSocket()) return NodeKind.SOCKET;
  return undefined;
}

/** Applies ownership and time options to a node's metadata. */
export function applyMeta(tree: FsTree, n: number, own: SourceOwnership): void {
  if (own.squashOwners) {
    tree.uid[n] = 0;
    tree.gid[n] = 0;
  }
  const m = n * 3 + TimeField.MTIME;
  if (own.mtimeOnly) {
    for (const f of [TimeField.ATIME, TimeField.CTIME]) {
      tree.seconds[n * 3 + f] = tree.seconds[m] as number;
      tree.nanoseconds[n * 3 + f] = tree.nanoseconds[m] as number;
    }
  }
  if (own.clampTime !== undefined) {
    for (let f = 0; f < 3; f++) {
      if ((tree.seconds[n * 3 + f] as number) > own.clampTime) {
        tree.seconds[n * 3 + f] = own.clampTime;
        tree.nanoseconds[n * 3 + f] = 0;
      }
    }
  }
}

function nodeFromStat(tree: FsTree, st: BigIntStats, kind: NodeKind, own: SourceOwnership): number {
  const n = tree.newNode(kind, Number(st.mode), Number(st.uid), Number(st.gid));
  setTimeNs(tree, n, TimeField.ATIME, st.atimeNs);
  setTimeNs(tree, n, TimeField.MTIME, st.mtimeNs);
  setTimeNs(tree, n, TimeField.CTIME, st.ctimeNs);
  if (kind === NodeKind.CHAR || kind === NodeKind.BLOCK) {
    const rdev = Number(st.rdev);
    tree.setDevice(
      n,
      ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff),
      (rdev & 0xff) | ((rdev >>> 12) & ~0xff),
    );
  }
  applyMeta(tree, n, own);
  return n;
}

/**
 * Walks a directory (without following symlinks) into `tree`, overlaying what
 * is there. The directory itself gives the root's metadata. Hard links inside
 * the source stay hard links. File contents are not read here: a file row
 * points at the entry it was found at, its path in the source.
 */
export function addDirectorySource(tree: FsTree, dir: string, own: SourceOwnership): void {
  const top = lstatSync(dir, { bigint: true });
  if (!top.isDirectory())
    throw new TypeError(`Cannot use ${dir} as a directory source: not a directory`);
  const rootPath = dir.replace(/(.)\/+$/, "$1");
  const origin = tree.addOrigin({ kind: "directory", root: Buffer.from(rootPath) });
  tree.placePath([], nodeFromStat(tree, top, NodeKind.DIR, own));
  const links = new Map<string, number>();
  const walk = (path: string | Buffer, target: number) => {
    // Names as strings (cheap); as bytes when a name is not valid UTF-8 or the path is bytes.
    let names: (string | Buffer)[] | undefined;
    if (typeof path === "string") {
      const texts = readdirSync(path);
      if (!texts.some((t) => t.includes("\ufffd"))) names = texts;
    }
    names ??= readdirSync(path, { encoding: "buffer" }) as Buffer[];
    for (const name of names) {
      const childPath =
        typeof name === "string"
          ? `${path as string}/${name}`
          : Buffer.concat([Buffer.from(path), Buffer.from("/"), name]);
      const st = lstatSync(childPath, { bigint: true });
      const kind = kindOf(st);
      if (kind === undefined) continue;
      const linked = kind !== NodeKind.DIR && st.nlink > 1n;
      const id = linked ? `${st.dev}:${st.ino}` : "";
      const seen = linked ? links.get(id) : undefined;
      const node = seen ?? nodeFromStat(tree, st, kind, own);
      const placed =
        typeof name === "string"
          ? tree.placeText(target, name, node)
          : tree.place(target, name, node);
      if (seen !== undefined) continue;
      if (linked) links.set(id, node);
      if (kind === NodeKind.SYMLINK) {
        tree.setTarget(node, readlinkSync(childPath, { encoding: "buffer" }));
      } else if (kind === NodeKind.FILE) {
        tree.setContent(node, Number(st.size), origin, tree.lastEntry);
        // No blocks at all for a file of 1 MiB or more: all holes (no inline
        // data is that big), no need to read it. Otherwise fewer allocated
        // bytes than the size: read it once to find its holes.
        if (st.blocks === 0n && st.size >= 1n << 20n) tree.dataRuns.set(node, []);
        else if (st.blocks * 512n < st.size) tree.setMaybeSparse(node, Number(st.blocks) * 512);
      } else if (kind === NodeKind.DIR) walk(childPath, placed);
    }
  };
  walk(rootPath, FsTree.ROOT);
}
