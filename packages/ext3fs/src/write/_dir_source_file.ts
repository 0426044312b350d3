import { type BigIntStats, lstatSync, readdirSync, readlinkSync } from "node:fs";
import { readXattrs } from "@bigfile/blockdev/node";
import { FsTree, NodeKind, TimeField, type Timestamp } from "./_tree.ts";
import { type StoredXattr, storableXattrs } from "./_xattrs.ts";

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
  /** Whether extended attributes are kept (the ext_attr feature). @default true */
  xattrs?: boolean;
  /** Receives notes about what is left out (attributes ext2/3/4 cannot store). */
  note?: (message: string) => void;
}

const BILLION = 1_000_000_000n;

// The last time converted: files of one package or one extraction share
// times, and BigInt division is slow next to comparing.
let lastNs = -1n;
let lastSeconds = 0;
let lastNanoseconds = 0;

function setTimeNs(tree: FsTree, n: number, field: TimeField, ns: bigint): void {
  if (ns !== lastNs) {
    let seconds = ns / BILLION;
    let rem = ns - seconds * BILLION;
    if (rem < 0n) {
      rem += BILLION;
      seconds -= 1n;
    }
    lastNs = ns;
    lastSeconds = Number(seconds);
    lastNanoseconds = Number(rem);
  }
  tree.setTime(n, field, lastSeconds, lastNanoseconds);
}

/** Kinds by the file type bits of st_mode (S_IFMT >> 12). */
const KIND_BY_TYPE: readonly (NodeKind | undefined)[] = [
  undefined,
  NodeKind.FIFO,
  NodeKind.CHAR,
  undefined,
  NodeKind.DIR,
  undefined,
  NodeKind.BLOCK,
  undefined,
  NodeKind.FILE,
  undefined,
  NodeKind.SYMLINK,
  undefined,
  NodeKind.SOCKET,
];

function kindOf(mode: number): NodeKind | undefined {
  return KIND_BY_TYPE[(mode >>> 12) & 0xf];
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

export function nodeFromStat(
  tree: FsTree,
  st: BigIntStats,
  mode: number,
  kind: NodeKind,
  own: SourceOwnership,
  path: string | Buffer,
): number {
  const n = tree.newNode(kind, mode, Number(st.uid), Number(st.gid));
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
  if (own.xattrs !== false) {
    const xattrs = sourceXattrs(path, own);
    if (xattrs.length > 0) tree.xattrs.set(n, xattrs);
  }
  return n;
}

/** Runs (by their ownership settings) told that directory sources' attributes are not read. */
const toldNoAddon = new WeakSet<SourceOwnership>();

/**
 * The extended attributes of a source file (blockdev's native addon), as
 * stored; those ext2/3/4 cannot store are left out with a note.
 */
function sourceXattrs(path: string | Buffer, own: SourceOwnership): StoredXattr[] {
  let found: ReturnType<typeof readXattrs>;
  try {
    found = readXattrs(path);
  } catch (error) {
    throw new TypeError(
      `Cannot read the extended attributes of ${path.toString()}: ${(error as Error).message}`,
    );
  }
  if (found === undefined) {
    if (!toldNoAddon.has(own) && own.note) {
      toldNoAddon.add(own);
      own.note(
        "Not reading extended attributes of directory sources: blockdev's native addon is not built (use a tar made with tar --xattrs --xattrs-include='*')",
      );
    }
    return [];
  }
  if (found.length === 0) return [];
  const records: Record<string, Uint8Array> = {};
  for (const { name, value } of found) records[name] = value;
  return storableXattrs(records, own, path.toString());
}

/**
 * A directory's names: as strings (cheap), or as bytes when a name is not
 * valid UTF-8 or the path is bytes.
 */
export function readNames(path: string | Buffer): (string | Buffer)[] {
  if (typeof path === "string") {
    const texts = readdirSync(path);
    if (!texts.some((t) => t.includes("\ufffd"))) return texts;
  }
  return readdirSync(path, { encoding: "buffer" }) as Buffer[];
}

/** `dir/name`, as a string when both are. */
export function joinPath(dir: string | Buffer, name: string | Buffer): string | Buffer {
  return typeof name === "string" && typeof dir === "string"
    ? `${dir}/${name}`
    : Buffer.concat([Buffer.from(dir), Buffer.from("/"), Buffer.from(name)]);
}

/** What a directory walk tells as it goes (see {@linkcode addDirectorySource}). */
export interface WalkHooks {
  /** A file mkfs will not read before its contents are written: check it can be read. */
  check?(path: string | Buffer): void;
  /** A file with fewer bytes allocated than its size: mkfs reads it to find its holes. */
  sparse?(node: number, path: string | Buffer, size: number, allocated: number): void;
  /** Stop with {@linkcode TreeLimitError} once the tree holds more entries than this (0: no limit). */
  limit?: number;
}

/** The tree passed {@linkcode WalkHooks.limit} entries. */
export class TreeLimitError extends Error {
  /** Creates the error. */
  constructor(limit: number) {
    super(`The tree holds more than ${limit} entries`);
    this.name = "TreeLimitError";
  }
}

/** What {@linkcode placeFromSource} placed. */
export interface PlacedEntry {
  /** The object made for the name (or the one a hard link shares). */
  node: number;
  /** The object now at the name: `node`, or the directory it merged into. */
  placed: number;
  kind: NodeKind;
  /** Its (source, device, inode) key when the source has it hard-linked, else "". */
  key: string;
  /** False for a hard link to an object placed before. */
  fresh: boolean;
  /** A file to read for holes, to check, or nothing to do (symlinks, devices, all holes). */
  read: "sparse" | "check" | "none";
}

/**
 * Names the object at `path` (a source's `dir/name`) `name` in directory row
 * `dir`, overlaying what is there: its metadata, symlink target, or where a
 * file's bytes are (origin `origin`). Hard links within the source (the same
 * key prefix, device and inode in `links`) share one object. Undefined for
 * objects ext3 cannot hold.
 */
export function placeFromSource(
  tree: FsTree,
  dir: number,
  name: string | Buffer,
  path: string | Buffer,
  origin: number,
  own: SourceOwnership,
  links: Map<string, number>,
  keyPrefix: string,
): PlacedEntry | undefined {
  const st = lstatSync(path, { bigint: true });
  const mode = Number(st.mode);
  const kind = kindOf(mode);
  if (kind === undefined) return undefined;
  const key = kind !== NodeKind.DIR && st.nlink > 1n ? `${keyPrefix}${st.dev}:${st.ino}` : "";
  const seen = key ? links.get(key) : undefined;
  const node = seen ?? nodeFromStat(tree, st, mode, kind, own, path);
  const placed =
    typeof name === "string" ? tree.placeText(dir, name, node) : tree.place(dir, name, node);
  const found: PlacedEntry = { node, placed, kind, key, fresh: seen === undefined, read: "none" };
  if (!found.fresh) return found;
  if (key) links.set(key, node);
  if (kind === NodeKind.SYMLINK) {
    tree.setTarget(node, readlinkSync(path, { encoding: "buffer" }));
  } else if (kind === NodeKind.FILE) {
    tree.setContent(node, Number(st.size), origin, tree.lastEntry);
    // No blocks at all for a file of 1 MiB or more: all holes (no inline
    // data is that big), no need to read it. Otherwise fewer allocated
    // bytes than the size: read it once to find its holes.
    if (st.blocks === 0n && st.size >= 1n << 20n) tree.dataRuns.set(node, []);
    else if (st.blocks * 512n < st.size) {
      tree.setMaybeSparse(node, Number(st.blocks) * 512);
      found.read = "sparse";
    } else found.read = "check";
  }
  return found;
}

/**
 * Walks a directory (without following symlinks) into `tree`, overlaying what
 * is there. The directory itself gives the root's metadata. Hard links inside
 * the source stay hard links. File contents are not read here: a file row
 * points at the entry it was found at, its path in the source. `hooks` hear
 * of files as they are found (to check them, or scan them for holes, on
 * other threads).
 */
export function addDirectorySource(
  tree: FsTree,
  dir: string,
  own: SourceOwnership,
  hooks: WalkHooks = {},
): void {
  const top = lstatSync(dir, { bigint: true });
  if (!top.isDirectory())
    throw new TypeError(`Cannot use ${dir} as a directory source: not a directory`);
  const rootPath = dir.replace(/(.)\/+$/, "$1");
  const origin = tree.addOrigin({ kind: "directory", root: Buffer.from(rootPath) });
  tree.placePath([], nodeFromStat(tree, top, Number(top.mode), NodeKind.DIR, own, dir));
  const links = new Map<string, number>();
  const limit = hooks.limit ?? 0;
  const walk = (path: string | Buffer, target: number) => {
    for (const name of readNames(path)) {
      const childPath = joinPath(path, name);
      const found = placeFromSource(tree, target, name, childPath, origin, own, links, "");
      if (limit && tree.entryCount > limit) throw new TreeLimitError(limit);
      if (!found?.fresh) continue;
      const { node, kind, placed } = found;
      if (found.read === "sparse") {
        const size = tree.size[node] as number;
        hooks.sparse?.(node, childPath, size, tree.allocated.get(node) as number);
      } else if (found.read === "check") hooks.check?.(childPath);
      if (kind === NodeKind.DIR) walk(childPath, placed);
    }
  };
  walk(rootPath, FsTree.ROOT);
}
