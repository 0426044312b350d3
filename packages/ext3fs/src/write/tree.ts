/**
 * The in-memory metadata tree that mkfs plans from: names, modes, owners,
 * times, sizes, symlink targets, devices and hard links, but never file
 * contents (those are pulled from a {@linkcode ContentRef} when their blocks
 * are written).
 */

/** The kind of a filesystem object. */
export type NodeKind = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";

/** Where a regular file's bytes come from, opened only when its blocks are emitted. */
export interface ContentRef {
  /** Reads up to `length` bytes at `position` into `into` (from offset 0); returns the count read. */
  read(position: number, into: Uint8Array): Promise<number>;
  /** Opens the content (called once before reads). */
  open?(): Promise<void>;
  /** Throws if the content cannot be read. */
  check?(): void;
  /** Releases the content. */
  close?(): Promise<void>;
  /**
   * Opens the content for one sequential scan that bypasses the page cache
   * (so reading a big file's holes does not fill memory with zero pages).
   * Returns a buffer to read into, at positions that are multiples of its
   * length, asking for its whole length each time; undefined when not
   * possible (then use `open`).
   */
  openUncached?(): Uint8Array | undefined;
  /** Text for error messages: the source path. */
  readonly label: string;
}

/** A time with nanoseconds. */
export interface Timestamp {
  seconds: number;
  nanoseconds: number;
}

/** One filesystem object (an inode); several directory entries may share it (hard links). */
export interface FsNode {
  kind: NodeKind;
  /** The 12 permission and special bits (07777). */
  perm: number;
  uid: number;
  gid: number;
  atime: Timestamp;
  mtime: Timestamp;
  ctime: Timestamp;
  /** Bytes of a regular file. */
  size: number;
  /** Symlink target bytes. */
  target?: Uint8Array;
  major?: number;
  minor?: number;
  /** Regular file contents. */
  content?: ContentRef | undefined;
  /**
   * Present logical blocks as sorted [start, count] pairs; undefined means
   * every block of the file is present (no holes).
   */
  dataRuns?: number[];
  /** Directory children by name (name bytes as a latin1 string, so order is byte order). */
  children?: Map<string, FsNode>;
  /** Whether the source may have holes (allocated bytes below the size): scanned for zero blocks. */
  maybeSparse?: boolean;
  /** Bytes the source file has allocated (st_blocks × 512), when known. */
  allocated?: number;
  /** Inode number, once planned. */
  ino?: number | undefined;
  /** Whether `children` is in byte order of names. */
  sorted?: boolean;
  /** Minimum directory blocks (lost+found is pre-sized as mke2fs does). */
  minBlocks?: number;
}

/** A name's bytes as a map key (latin1, so sorting keys sorts bytes). */
export function nameKey(name: Uint8Array): string {
  let s = "";
  for (let i = 0; i < name.length; i += 4096) {
    s += String.fromCharCode(...name.subarray(i, i + 4096));
  }
  return s;
}

/** The bytes of a name key. */
export function keyBytes(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i);
  return out;
}

/** A new directory node. */
export function newDir(perm: number, uid: number, gid: number, time: Timestamp): FsNode {
  return {
    kind: "dir",
    perm,
    uid,
    gid,
    atime: time,
    mtime: time,
    ctime: time,
    size: 0,
    children: new Map(),
  };
}

/**
 * Places `node` at `path` (a list of name keys) under `root`, creating missing
 * parent directories with `makeDir`. A later object replaces an earlier one at
 * the same path, except that two directories merge: the later one's metadata
 * wins and the children of both are kept (an overlay, as in `cp -a a/. b/. dest`).
 * Returns the node now at the path.
 */
export function placeNode(
  root: FsNode,
  path: string[],
  node: FsNode,
  makeDir: () => FsNode,
): FsNode {
  if (path.length === 0) {
    if (node.kind !== "dir") throw new TypeError("Cannot place a non-directory at the root");
    mergeDirMeta(root, node);
    return root;
  }
  let dir = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string;
    let next = dir.children?.get(key);
    if (next?.kind !== "dir") {
      next = makeDir();
      dir.children?.set(key, next);
    }
    dir = next;
  }
  const key = path[path.length - 1] as string;
  const existing = dir.children?.get(key);
  if (existing && existing.kind === "dir" && node.kind === "dir" && existing !== node) {
    mergeDirMeta(existing, node);
    return existing;
  }
  dir.children?.set(key, node);
  return node;
}

function mergeDirMeta(into: FsNode, from: FsNode): void {
  into.perm = from.perm;
  into.uid = from.uid;
  into.gid = from.gid;
  into.atime = from.atime;
  into.mtime = from.mtime;
  into.ctime = from.ctime;
  if (from.children) for (const [k, v] of from.children) into.children?.set(k, v);
}

/** Looks up a node by a list of name keys. */
export function lookupNode(root: FsNode, path: string[]): FsNode | undefined {
  let node: FsNode | undefined = root;
  for (const key of path) {
    node = node?.children?.get(key);
    if (!node) return undefined;
  }
  return node;
}

/** Splits a slash-separated path (bytes) into name keys, dropping empty parts and "."; rejects "..". */
export function splitPath(path: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === 0x2f) {
      if (i > start) {
        const part = nameKey(path.subarray(start, i));
        if (part === "..")
          throw new RangeError(`Cannot use path with "..": ${new TextDecoder().decode(path)}`);
        if (part !== ".") out.push(part);
      }
      start = i + 1;
    }
  }
  return out;
}
