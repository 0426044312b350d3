import { type BigIntStats, lstatSync, readdirSync, readlinkSync } from "node:fs";
import { FileContent } from "./_content_file.ts";
import { type FsNode, type NodeKind, placeNode, type Timestamp } from "./tree.ts";

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

// biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII is 0x00-0x7f
const ASCII = /^[\x00-\x7f]*$/;

// The last few timestamps made: equal times (files of one package, one
// extraction) share one object. Timestamps are never changed in place.
const recentNs: bigint[] = [-1n, -1n, -1n, -1n];
const recentTs: Timestamp[] = [];
let recentNext = 0;

function ts(ns: bigint): Timestamp {
  for (let i = 0; i < 4; i++) if (recentNs[i] === ns) return recentTs[i] as Timestamp;
  const t = makeTs(ns);
  recentNs[recentNext] = ns;
  recentTs[recentNext] = t;
  recentNext = (recentNext + 1) & 3;
  return t;
}

function makeTs(ns: bigint): Timestamp {
  const seconds = ns / 1_000_000_000n;
  let rem = ns % 1_000_000_000n;
  let s = seconds;
  if (rem < 0n) {
    rem += 1_000_000_000n;
    s -= 1n;
  }
  return { seconds: Number(s), nanoseconds: Number(rem) };
}

function kindOf(st: BigIntStats): NodeKind | undefined {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  if (st.isFIFO()) return "fifo";
  if (st.isSocket()) return "socket";
  return undefined;
}

/** Applies ownership and time options to a node's metadata. */
export function applyMeta(node: FsNode, own: SourceOwnership): void {
  if (own.squashOwners) {
    node.uid = 0;
    node.gid = 0;
  }
  if (own.mtimeOnly) {
    node.atime = node.mtime;
    node.ctime = node.mtime;
  }
  if (own.clampTime !== undefined) {
    const clamp = (t: Timestamp) =>
      t.seconds > (own.clampTime as number)
        ? { seconds: own.clampTime as number, nanoseconds: 0 }
        : t;
    node.atime = clamp(node.atime);
    node.mtime = clamp(node.mtime);
    node.ctime = clamp(node.ctime);
  }
}

function nodeFromStat(st: BigIntStats, kind: NodeKind, own: SourceOwnership): FsNode {
  // Equal times share one object (less memory for big trees).
  const mtime = ts(st.mtimeNs);
  const atime = st.atimeNs === st.mtimeNs ? mtime : ts(st.atimeNs);
  const ctime =
    st.ctimeNs === st.mtimeNs ? mtime : st.ctimeNs === st.atimeNs ? atime : ts(st.ctimeNs);
  const node: FsNode = {
    kind,
    perm: Number(st.mode) & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    atime,
    mtime,
    ctime,
    size: kind === "file" ? Number(st.size) : 0,
    // Fields set later, in the object itself (no separate property array).
    content: undefined,
    ino: undefined,
  };
  if (kind === "dir") node.children = new Map();
  if (kind === "char" || kind === "block") {
    const rdev = Number(st.rdev);
    node.major = ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
    node.minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
  }
  applyMeta(node, own);
  return node;
}

/**
 * Walks a directory (without following symlinks) into `root`, overlaying what
 * is there. The directory itself gives the root's metadata. Hard links inside
 * the source stay hard links. File contents are not read here.
 */
export function addDirectorySource(
  root: FsNode,
  dir: string,
  own: SourceOwnership,
  files: FsNode[],
): void {
  const top = lstatSync(dir, { bigint: true });
  if (!top.isDirectory())
    throw new TypeError(`Cannot use ${dir} as a directory source: not a directory`);
  const rootMeta = nodeFromStat(top, "dir", own);
  placeNode(root, [], rootMeta, () => rootMeta);
  const links = new Map<string, FsNode>();
  const makeDir = (): FsNode => {
    throw new Error("unreachable");
  };
  const walk = (path: string | Buffer, target: FsNode) => {
    // Names as strings (cheap); as bytes when a name is not valid UTF-8 or the path is bytes.
    let names: (string | Buffer)[] | undefined;
    if (typeof path === "string") {
      const texts = readdirSync(path);
      if (!texts.some((t) => t.includes("\ufffd"))) names = texts;
    }
    names ??= readdirSync(path, { encoding: "buffer" }) as Buffer[];
    for (const name of names) {
      let childPath: string | Buffer;
      let key: string;
      if (typeof name === "string") {
        childPath = `${path as string}/${name}`;
        // The key is the name's bytes as latin1: the same string for ASCII.
        key = ASCII.test(name) ? name : Buffer.from(name).toString("latin1");
      } else {
        key = name.toString("latin1");
        childPath = Buffer.concat([Buffer.from(path), Buffer.from("/"), name]);
      }
      const st = lstatSync(childPath, { bigint: true });
      const kind = kindOf(st);
      if (!kind) continue;
      if (kind !== "dir" && st.nlink > 1n) {
        const id = `${st.dev}:${st.ino}`;
        const seen = links.get(id);
        if (seen) {
          target.children?.set(key, seen);
          continue;
        }
      }
      const node = nodeFromStat(st, kind, own);
      if (kind === "symlink")
        node.target = new Uint8Array(readlinkSync(childPath, { encoding: "buffer" }));
      if (kind === "file") {
        node.content =
          typeof name === "string"
            ? FileContent.inDirectory(path as string, name)
            : new FileContent(childPath);
        // No blocks at all for a file of 1 MiB or more: all holes (no inline
        // data is that big), no need to read it. Otherwise fewer allocated
        // bytes than the size: read it once to find its holes.
        if (st.blocks === 0n && st.size >= 1n << 20n) node.dataRuns = [];
        else if (st.blocks * 512n < st.size) {
          node.maybeSparse = true;
          node.allocated = Number(st.blocks) * 512;
        }
        files.push(node);
      }
      if (kind !== "dir" && st.nlink > 1n) links.set(`${st.dev}:${st.ino}`, node);
      const placed = placeNode(target, [key], node, makeDir);
      if (kind === "dir") walk(childPath, placed);
    }
  };
  walk(dir.replace(/(.)\/+$/, "$1"), root);
}
