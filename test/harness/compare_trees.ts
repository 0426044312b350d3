/**
 * Tree snapshots (every entry's type, mode, owner, times, size, content hash,
 * symlink target, device number and hard-link group) and their comparison.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

/** File types as the harness names them. */
export type EntryType = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";

/** One entry of a tree. */
export interface TreeEntry {
  /** Absolute within the tree: "/" for the root, "/a/b" below it. */
  path: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes, for files and symlinks (0 otherwise). */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Seconds since the epoch. */
  atime: number;
  /** Link count. */
  nlink: number;
  /** An identity shared by hard links of one inode ("ino" in its tree). */
  inode: string;
  /** Symlink target. */
  target?: string;
  /** Device number of char and block devices. */
  rdev?: { major: number; minor: number };
  /** SHA-256 of a regular file's bytes, hex (when hashed). */
  sha256?: string;
}

/** A tree: entries by path. */
export interface TreeSnapshot {
  entries: Map<string, TreeEntry>;
}

/** The file type of a Unix mode. */
export function typeOfMode(mode: number): EntryType {
  switch (mode & 0o170000) {
    case 0o100000:
      return "file";
    case 0o040000:
      return "dir";
    case 0o120000:
      return "symlink";
    case 0o020000:
      return "char";
    case 0o060000:
      return "block";
    case 0o010000:
      return "fifo";
    case 0o140000:
      return "socket";
    default:
      throw new RangeError(`Cannot classify mode 0${mode.toString(8)}`);
  }
}

/** Linux's major/minor split of a dev_t. */
export function splitDev(dev: number): { major: number; minor: number } {
  const hi = Math.floor(dev / 2 ** 32);
  const lo = dev >>> 0;
  return {
    major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0),
    minor: (lo & 0xff) | ((lo >>> 12) & 0xfff00) | ((hi & 0xfff) << 20),
  };
}

/** SHA-256 of a file, read without touching its atime. */
export async function hashFile(path: string): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOATIME);
  } catch {
    handle = await open(path, "r");
  }
  try {
    const hash = createHash("sha256");
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
    return hash.digest("hex");
  } finally {
    await handle.close();
  }
}

/** Options of {@link snapshotDir}. */
export interface SnapshotOptions {
  /** Hash regular files' contents. @default true */
  contents?: boolean;
}

/**
 * Snapshot of a host directory (lstat, never following symlinks; file contents
 * read with O_NOATIME so the snapshot does not change atimes).
 */
export async function snapshotDir(
  root: string,
  options: SnapshotOptions = {},
): Promise<TreeSnapshot> {
  const entries = new Map<string, TreeEntry>();
  const visit = async (host: string, path: string) => {
    const st = await lstat(host);
    const type = typeOfMode(st.mode);
    const entry: TreeEntry = {
      path,
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: type === "file" || type === "symlink" ? st.size : 0,
      mtime: Math.floor(st.mtimeMs / 1000),
      atime: Math.floor(st.atimeMs / 1000),
      nlink: st.nlink,
      inode: `${st.dev}:${st.ino}`,
    };
    if (type === "symlink") entry.target = await readlink(host);
    if (type === "char" || type === "block") entry.rdev = splitDev(st.rdev);
    if (type === "file" && options.contents !== false) entry.sha256 = await hashFile(host);
    entries.set(path, entry);
    if (type === "dir") {
      for (const name of (await readdir(host)).sort()) {
        await visit(join(host, name), path === "/" ? `/${name}` : `${path}/${name}`);
      }
    }
  };
  await visit(root, "/");
  return { entries };
}

/** Options of {@link compareTrees}. */
export interface CompareOptions {
  /** Compare uid and gid. @default true */
  owners?: boolean;
  /** Compare mtimes (seconds). @default true */
  times?: boolean;
  /** Compare atimes too (seconds). @default false */
  atimes?: boolean;
  /** Paths to leave out with everything below them, e.g. ["/lost+found"]. @default [] */
  ignore?: readonly string[];
  /** Compare the root directory's mode and owner. @default true */
  root?: boolean;
}

function ignored(path: string, ignore: readonly string[]): boolean {
  return ignore.some((p) => path === p || path.startsWith(p.endsWith("/") ? p : `${p}/`));
}

function linkGroups(tree: TreeSnapshot, ignore: readonly string[]): Map<string, string> {
  const byInode = new Map<string, string[]>();
  for (const e of tree.entries.values()) {
    if (e.type === "dir" || ignored(e.path, ignore)) continue;
    const list = byInode.get(e.inode) ?? [];
    list.push(e.path);
    byInode.set(e.inode, list);
  }
  const group = new Map<string, string>();
  for (const paths of byInode.values()) {
    const key = paths.sort().join(" ");
    for (const p of paths) group.set(p, key);
  }
  return group;
}

const octal = (n: number) => `0${n.toString(8)}`;

/**
 * Differences between two trees (directories on the host or snapshots), one
 * line each, sorted; empty when they agree. Compared: presence, type, mode,
 * owners, mtime (and atime if asked), size, contents (SHA-256), symlink
 * target, device numbers, and hard-link groups (which paths share an inode).
 * Directory sizes and link counts are not compared (they depend on the
 * filesystem), nor is the root's mtime.
 *
 * @example
 * ```ts
 * await debugfsExtract("disk.img", out, { offset: 1048576 });
 * expect(await compareTrees(src, out, { ignore: ["/lost+found"] })).toEqual([]);
 * ```
 */
export async function compareTrees(
  a: string | TreeSnapshot,
  b: string | TreeSnapshot,
  options: CompareOptions = {},
): Promise<string[]> {
  const left = typeof a === "string" ? await snapshotDir(a) : a;
  const right = typeof b === "string" ? await snapshotDir(b) : b;
  const ignore = options.ignore ?? [];
  const diffs: string[] = [];
  const leftGroups = linkGroups(left, ignore);
  const rightGroups = linkGroups(right, ignore);
  for (const [path, x] of left.entries) {
    if (ignored(path, ignore)) continue;
    const y = right.entries.get(path);
    if (!y) {
      diffs.push(`${path}: only in first (${x.type})`);
      continue;
    }
    if (x.type !== y.type) {
      diffs.push(`${path}: type ${x.type} != ${y.type}`);
      continue;
    }
    const isRoot = path === "/";
    if (isRoot && options.root === false) continue;
    if (x.mode !== y.mode && x.type !== "symlink") {
      diffs.push(`${path}: mode ${octal(x.mode)} != ${octal(y.mode)}`);
    }
    if (options.owners !== false && (x.uid !== y.uid || x.gid !== y.gid)) {
      diffs.push(`${path}: owner ${x.uid}:${x.gid} != ${y.uid}:${y.gid}`);
    }
    if (!isRoot && options.times !== false && x.mtime !== y.mtime) {
      diffs.push(`${path}: mtime ${x.mtime} != ${y.mtime}`);
    }
    if (!isRoot && options.atimes === true && x.atime !== y.atime) {
      diffs.push(`${path}: atime ${x.atime} != ${y.atime}`);
    }
    if ((x.type === "file" || x.type === "symlink") && x.size !== y.size) {
      diffs.push(`${path}: size ${x.size} != ${y.size}`);
    }
    if (x.type === "file" && x.sha256 && y.sha256 && x.sha256 !== y.sha256) {
      diffs.push(`${path}: contents differ`);
    }
    if (x.type === "symlink" && x.target !== y.target) {
      diffs.push(`${path}: target ${JSON.stringify(x.target)} != ${JSON.stringify(y.target)}`);
    }
    if (
      (x.type === "char" || x.type === "block") &&
      (x.rdev?.major !== y.rdev?.major || x.rdev?.minor !== y.rdev?.minor)
    ) {
      diffs.push(
        `${path}: device ${x.rdev?.major}:${x.rdev?.minor} != ${y.rdev?.major}:${y.rdev?.minor}`,
      );
    }
    if (x.type !== "dir") {
      const gx = leftGroups.get(path);
      const gy = rightGroups.get(path);
      if (gx !== gy) diffs.push(`${path}: hard links [${gx}] != [${gy}]`);
    }
  }
  for (const [path, y] of right.entries) {
    if (!ignored(path, ignore) && !left.entries.has(path)) {
      diffs.push(`${path}: only in second (${y.type})`);
    }
  }
  return diffs.sort();
}
