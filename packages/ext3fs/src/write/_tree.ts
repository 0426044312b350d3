/**
 * The metadata tree mkfs plans from, kept as a struct of arrays: one row of
 * typed-array columns per object (an inode to be) and per directory entry,
 * names and symlink targets in one byte pool, and an open-addressing hash
 * table for lookups by (directory, name). No JavaScript object per entry, so
 * memory is about a hundred bytes per entry plus its name, and the garbage
 * collector has nothing to walk. File contents are never held: a file row
 * says where its bytes come from, and {@linkcode FsTree.content} makes a
 * {@linkcode ContentRef} for it when its blocks are written.
 */

import type { StoredXattr } from "./_xattrs.ts";

/** The kind of a filesystem object. */
export const NodeKind = {
  FILE: 1,
  DIR: 2,
  SYMLINK: 3,
  CHAR: 4,
  BLOCK: 5,
  FIFO: 6,
  SOCKET: 7,
} as const;
export type NodeKind = (typeof NodeKind)[keyof typeof NodeKind];

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
  /** Text for error messages: the source path. */
  readonly label: string;
  /**
   * Where the bytes are, for a copier that reads them itself: a file, the
   * content's offset in it, and a label for messages when the path is not one.
   */
  readonly source?: { path: string | Uint8Array; offset: number; label?: string | undefined };
}

/** A time with nanoseconds. */
export interface Timestamp {
  seconds: number;
  nanoseconds: number;
}

/** Where file contents come from: a directory source (path = root + the entry's path) or a spool file. */
export type ContentOrigin =
  | { kind: "directory"; root: Uint8Array }
  | { kind: "spool"; path: string; label: string };

/**
 * Makes a {@linkcode ContentRef} for a path (bytes) or a spool region, named
 * `label` in messages (undefined: the path); supplied by the Node-side code.
 */
export type ContentFactory = (
  origin: ContentOrigin,
  path: Uint8Array,
  offset: number,
  label: string | undefined,
) => ContentRef;

/** Which of a node's three times. */
export const TimeField = { ATIME: 0, MTIME: 1, CTIME: 2 } as const;
export type TimeField = (typeof TimeField)[keyof typeof TimeField];

const SORTED = 1;
/** Made by mkfs (implicit parents, lost+found): its times are mkfs's creation time. */
const CREATED = 2;
/** The source has fewer allocated bytes than the size: scanned for zero blocks. */
const MAYBE_SPARSE = 4;

const SLASH = 0x2f;
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** A copy of `array` with `length` elements (cut or zero-filled). */
function grown<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(
  array: T,
  length: number,
): T {
  const next = new (array.constructor as new (n: number) => T)(length);
  next.set(array.length > length ? array.subarray(0, length) : array);
  return next;
}

/** FNV-1a over a name's bytes, mixed with the directory's row. */
function nameHash(dir: number, bytes: Uint8Array, from: number, to: number): number {
  let h = (0x811c9dc5 ^ Math.imul(dir, 0x9e3779b1)) >>> 0;
  for (let i = from; i < to; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h >>> 0;
}

/**
 * The tree: rows of nodes (1 = the root) and of directory entries (from 1;
 * 0 means none). Several entries may name one node (hard links).
 */
export class FsTree {
  /** The root directory's row. */
  static readonly ROOT = 1;

  // Node columns.
  kind = new Uint8Array(32);
  perm = new Uint16Array(32);
  uid = new Uint32Array(32);
  gid = new Uint32Array(32);
  /** Seconds of atime, mtime, ctime: three per node. */
  seconds = new Float64Array(96);
  nanoseconds = new Uint32Array(96);
  /** File: bytes. Symlink: target length. Device: major number. */
  size = new Float64Array(32);
  /** File: offset of its bytes in a spool origin. Symlink: pool offset of the target. Device: minor number. */
  ref = new Float64Array(32);
  /** File: index of its origin in `origins`. */
  origin = new Uint32Array(32);
  /** Directory: first entry of its list. */
  head = new Uint32Array(32);
  /**
   * The entry that names it: for a directory its one entry (0 for the root),
   * kept by {@linkcode FsTree.place}; for a file the entry it was found at
   * (its path in its source), set by {@linkcode FsTree.setContent}.
   */
  up = new Uint32Array(32);
  flags = new Uint8Array(32);
  nodeCount = 1;

  // Entry columns.
  entryDir = new Uint32Array(32);
  entryNode = new Uint32Array(32);
  entryNext = new Uint32Array(32);
  /** Pool offset of each entry's name. */
  entryName = new Uint32Array(32);
  entryNameLength = new Uint16Array(32);
  entryCount = 0;

  /** Names and symlink targets. */
  pool = new Uint8Array(1 << 12);
  poolUsed = 0;

  /** The entry the last {@linkcode FsTree.place} or {@linkcode FsTree.placeText} used. */
  lastEntry = 0;

  /** Open addressing: entry + 1 per slot, 0 = free; empty after {@linkcode FsTree.compact} until needed. */
  #table = new Uint32Array(64);

  /** Origins of file contents. */
  readonly origins: ContentOrigin[] = [];
  /** Present 1 KiB units of files with holes, as [start, count] pairs. */
  readonly dataRuns = new Map<number, number[]>();
  /** Allocated bytes of files whose source is sparse. */
  readonly allocated = new Map<number, number>();
  /** Minimum directory blocks (lost+found is pre-sized as mke2fs does). */
  readonly minBlocks = new Map<number, number>();
  /** Extended attributes of the nodes that have any, in block order. */
  readonly xattrs = new Map<number, StoredXattr[]>();

  /** A tree with an empty root directory made by mkfs. */
  constructor(rootPerm = 0o755) {
    this.nodeCount = 1;
    this.newCreatedDir(rootPerm);
  }

  /** Adds a node (times 0 until set); returns its row. */
  newNode(kind: NodeKind, perm: number, uid: number, gid: number): number {
    const n = this.nodeCount++;
    if (n >= this.kind.length) this.#growNodes();
    this.kind[n] = kind;
    this.perm[n] = perm & 0o7777;
    this.uid[n] = uid;
    this.gid[n] = gid;
    return n;
  }

  /** A directory made by mkfs (root-owned; see {@linkcode FsTree.markCreated}). */
  newCreatedDir(perm = 0o755): number {
    const n = this.newNode(NodeKind.DIR, perm, 0, 0);
    this.markCreated(n);
    return n;
  }

  /** Marks a node made by mkfs: its times become mkfs's creation time (set once it is known). */
  markCreated(n: number): void {
    this.flags[n] = (this.flags[n] as number) | CREATED;
  }

  /**
   * Trims every column to its rows and drops the lookup table (made again if
   * needed): call once the sources are read, before planning, so the slack
   * of growth does not stay for the whole run.
   */
  compact(): void {
    this.#resizeNodes(this.nodeCount);
    this.#resizeEntries(this.entryCount + 1);
    this.pool = this.pool.slice(0, this.poolUsed);
    this.#table = new Uint32Array(0);
  }

  #growNodes(): void {
    this.#resizeNodes(Math.ceil(this.kind.length * 2));
  }

  #resizeNodes(length: number): void {
    this.kind = grown(this.kind, length);
    this.perm = grown(this.perm, length);
    this.uid = grown(this.uid, length);
    this.gid = grown(this.gid, length);
    this.seconds = grown(this.seconds, length * 3);
    this.nanoseconds = grown(this.nanoseconds, length * 3);
    this.size = grown(this.size, length);
    this.ref = grown(this.ref, length);
    this.origin = grown(this.origin, length);
    this.head = grown(this.head, length);
    this.up = grown(this.up, length);
    this.flags = grown(this.flags, length);
  }

  #growEntries(): void {
    this.#resizeEntries(Math.ceil(this.entryDir.length * 2));
  }

  #resizeEntries(length: number): void {
    this.entryDir = grown(this.entryDir, length);
    this.entryNode = grown(this.entryNode, length);
    this.entryNext = grown(this.entryNext, length);
    this.entryName = grown(this.entryName, length);
    this.entryNameLength = grown(this.entryNameLength, length);
  }

  /** Appends bytes to the pool; returns their offset. */
  addBytes(bytes: Uint8Array): number {
    const at = this.#reserve(bytes.length);
    this.pool.set(bytes, at);
    this.poolUsed += bytes.length;
    return at;
  }

  /** Appends a string's UTF-8 bytes to the pool; returns [offset, length]. */
  addText(text: string): [number, number] {
    const at = this.#reserve(text.length * 3);
    const pool = this.pool;
    let i = 0;
    // ASCII (most names) byte by byte; the rest through the encoder.
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) break;
      pool[at + i] = c;
    }
    let length = i;
    if (i < text.length) length = ENCODER.encodeInto(text, pool.subarray(at)).written;
    this.poolUsed += length;
    return [at, length];
  }

  #reserve(n: number): number {
    if (this.poolUsed + n > 0xffffffff) throw new RangeError("Cannot hold over 4 GiB of names");
    if (this.poolUsed + n > this.pool.length) {
      this.pool = grown(this.pool, Math.max(this.poolUsed + n, Math.ceil(this.pool.length * 2)));
    }
    return this.poolUsed;
  }

  /** The bytes of entry `e`'s name (a view of the pool). */
  name(e: number): Uint8Array {
    const at = this.entryName[e] as number;
    return this.pool.subarray(at, at + (this.entryNameLength[e] as number));
  }

  /** A symlink's target bytes (a view of the pool). */
  target(n: number): Uint8Array {
    const at = this.ref[n] as number;
    return this.pool.subarray(at, at + (this.size[n] as number));
  }

  /** Sets a symlink's target. */
  setTarget(n: number, bytes: Uint8Array): void {
    this.ref[n] = this.addBytes(bytes);
    this.size[n] = bytes.length;
  }

  /** Sets a device's numbers. */
  setDevice(n: number, major: number, minor: number): void {
    this.size[n] = major;
    this.ref[n] = minor;
  }

  /** A device's major number. */
  major(n: number): number {
    return this.size[n] as number;
  }

  /** A device's minor number. */
  minor(n: number): number {
    return this.ref[n] as number;
  }

  /** Sets one of a node's times. */
  setTime(n: number, field: TimeField, seconds: number, nanoseconds: number): void {
    this.seconds[n * 3 + field] = seconds;
    this.nanoseconds[n * 3 + field] = nanoseconds;
  }

  /** Seconds of one of a node's times. */
  timeSeconds(n: number, field: TimeField): number {
    return this.seconds[n * 3 + field] as number;
  }

  /** Nanoseconds of one of a node's times. */
  timeNanoseconds(n: number, field: TimeField): number {
    return this.nanoseconds[n * 3 + field] as number;
  }

  /** Sets all three times. */
  setAllTimes(n: number, t: Timestamp): void {
    for (let f = 0; f < 3; f++) this.setTime(n, f as TimeField, t.seconds, t.nanoseconds);
  }

  /** Whether mkfs made this node (its times are mkfs's creation time). */
  isCreated(n: number): boolean {
    return ((this.flags[n] as number) & CREATED) !== 0;
  }

  /** Whether a file's source may have holes. */
  maybeSparse(n: number): boolean {
    return ((this.flags[n] as number) & MAYBE_SPARSE) !== 0;
  }

  /** Marks a file whose source may have holes (`allocated` bytes of `size`). */
  setMaybeSparse(n: number, allocated?: number): void {
    this.flags[n] = (this.flags[n] as number) | MAYBE_SPARSE;
    if (allocated === undefined) this.allocated.delete(n);
    else this.allocated.set(n, allocated);
  }

  /**
   * Sets a file's size and where its bytes come from: origin `origin`, the
   * path of entry `foundAt`, at `offset` for a spool. Forgets earlier holes.
   */
  setContent(n: number, size: number, origin: number, foundAt: number, offset = 0): void {
    this.size[n] = size;
    this.origin[n] = origin;
    this.up[n] = foundAt;
    this.ref[n] = offset;
    this.flags[n] = (this.flags[n] as number) & ~MAYBE_SPARSE;
    this.dataRuns.delete(n);
    this.allocated.delete(n);
  }

  /** Registers a content origin; returns its index. */
  addOrigin(origin: ContentOrigin): number {
    this.origins.push(origin);
    return this.origins.length - 1;
  }

  /** The entry named `name` in directory `dir`, or 0. */
  lookup(dir: number, name: Uint8Array): number {
    return this.#find(dir, name, 0, name.length, nameHash(dir, name, 0, name.length));
  }

  /** The entry of `dir` whose name is `bytes[from, to)` (hash `h`), or 0. */
  #find(dir: number, bytes: Uint8Array, from: number, to: number, h: number): number {
    if (this.#table.length === 0) this.#rehash(tableSize(this.entryCount));
    const mask = this.#table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = (this.#table[slot] as number) - 1;
      if (e < 0) return 0;
      if (this.entryDir[e] === dir && this.#nameIs(e, bytes, from, to)) return e;
    }
  }

  #nameIs(e: number, bytes: Uint8Array, from: number, to: number): boolean {
    const len = this.entryNameLength[e] as number;
    if (len !== to - from) return false;
    const at = this.entryName[e] as number;
    const pool = this.pool;
    for (let i = 0; i < len; i++) if (pool[at + i] !== bytes[from + i]) return false;
    return true;
  }

  /**
   * Names `node` `name` in directory `dir`. A later object replaces an earlier
   * one of the same name, except that two directories merge: the later one's
   * metadata wins and the children of both are kept (an overlay, as in
   * `cp -a a/. b/. dest`). Returns the node now at that name.
   */
  place(dir: number, name: Uint8Array, node: number): number {
    checkNameLength(name.length);
    const existing = this.lookup(dir, name);
    if (existing) return this.#replace(existing, node);
    const at = this.addBytes(name);
    return this.#link(dir, at, name.length, nameHash(dir, name, 0, name.length), node);
  }

  /**
   * {@linkcode FsTree.place} for a name given as text (a directory listing):
   * encodes it straight into the pool.
   */
  placeText(dir: number, name: string, node: number): number {
    const [at, length] = this.addText(name);
    checkNameLength(length);
    const h = nameHash(dir, this.pool, at, at + length);
    const existing = this.#find(dir, this.pool, at, at + length, h);
    if (existing) {
      this.poolUsed = at;
      return this.#replace(existing, node);
    }
    return this.#link(dir, at, length, h, node);
  }

  #replace(e: number, node: number): number {
    this.lastEntry = e;
    this.#prefixDir = -1;
    const old = this.entryNode[e] as number;
    if (old !== node && this.kind[old] === NodeKind.DIR && this.kind[node] === NodeKind.DIR) {
      this.#mergeDir(old, node);
      return old;
    }
    this.entryNode[e] = node;
    if (this.kind[node] === NodeKind.DIR) this.up[node] = e;
    return node;
  }

  #mergeDir(into: number, from: number): void {
    this.perm[into] = this.perm[from] as number;
    this.uid[into] = this.uid[from] as number;
    this.gid[into] = this.gid[from] as number;
    this.seconds.copyWithin(into * 3, from * 3, from * 3 + 3);
    this.nanoseconds.copyWithin(into * 3, from * 3, from * 3 + 3);
    this.flags[into] =
      ((this.flags[into] as number) & ~CREATED) | ((this.flags[from] as number) & CREATED);
    // Attributes are metadata too: the later directory's, or none.
    const xattrs = this.xattrs.get(from);
    if (xattrs) this.xattrs.set(into, xattrs);
    else this.xattrs.delete(into);
    for (let e = this.head[from] as number; e; e = this.entryNext[e] as number) {
      this.place(into, this.name(e).slice(), this.entryNode[e] as number);
    }
  }

  #link(dir: number, at: number, length: number, h: number, node: number): number {
    const e = ++this.entryCount;
    if (e >= this.entryDir.length) this.#growEntries();
    this.lastEntry = e;
    this.#prefixDir = -1;
    this.entryDir[e] = dir;
    this.entryNode[e] = node;
    this.entryName[e] = at;
    this.entryNameLength[e] = length;
    this.entryNext[e] = this.head[dir] as number;
    this.head[dir] = e;
    this.flags[dir] = (this.flags[dir] as number) & ~SORTED;
    if (this.kind[node] === NodeKind.DIR) this.up[node] = e;
    if (e * 2 > this.#table.length) this.#rehash(tableSize(e));
    else this.#insert(e, h);
    return node;
  }

  #insert(e: number, h: number): void {
    const mask = this.#table.length - 1;
    let slot = h & mask;
    while (this.#table[slot] !== 0) slot = (slot + 1) & mask;
    this.#table[slot] = e + 1;
  }

  #rehash(size: number): void {
    this.#table = new Uint32Array(size);
    for (let e = 1; e <= this.entryCount; e++) {
      const at = this.entryName[e] as number;
      const end = at + (this.entryNameLength[e] as number);
      this.#insert(e, nameHash(this.entryDir[e] as number, this.pool, at, end));
    }
  }

  /**
   * Places `node` at `path` (name parts) under the root, creating missing
   * parent directories (as mkfs-made directories); a non-directory in the way
   * of a parent is replaced. Returns the node now at the path.
   */
  placePath(path: readonly Uint8Array[], node: number): number {
    if (path.length === 0) {
      if (this.kind[node] !== NodeKind.DIR)
        throw new TypeError("Cannot place a non-directory at the root");
      this.#mergeDir(FsTree.ROOT, node);
      return FsTree.ROOT;
    }
    let dir = FsTree.ROOT;
    for (let i = 0; i < path.length - 1; i++) {
      const e = this.lookup(dir, path[i] as Uint8Array);
      let next = e ? (this.entryNode[e] as number) : 0;
      if (!next || this.kind[next] !== NodeKind.DIR) {
        next = this.newCreatedDir();
        this.place(dir, path[i] as Uint8Array, next);
      }
      dir = next;
    }
    return this.place(dir, path[path.length - 1] as Uint8Array, node);
  }

  /** The node at `path` (name parts), or 0. */
  lookupPath(path: readonly Uint8Array[]): number {
    let node: number = FsTree.ROOT;
    for (const part of path) {
      if (this.kind[node] !== NodeKind.DIR) return 0;
      const e = this.lookup(node, part);
      if (!e) return 0;
      node = this.entryNode[e] as number;
    }
    return node;
  }

  /** The node named `name` (text) in directory `dir`, or 0. */
  child(dir: number, name: string): number {
    const e = this.lookup(dir, ENCODER.encode(name));
    return e ? (this.entryNode[e] as number) : 0;
  }

  /**
   * The entries of a directory in byte order of their names (sorted once,
   * then kept so by relinking the list).
   */
  sortedEntries(dir: number): Uint32Array {
    let count = 0;
    for (let e = this.head[dir] as number; e; e = this.entryNext[e] as number) count++;
    const entries = new Uint32Array(count);
    let i = 0;
    for (let e = this.head[dir] as number; e; e = this.entryNext[e] as number) entries[i++] = e;
    if ((this.flags[dir] as number) & SORTED) return entries;
    // Strings of one char per byte compare like the bytes; made per directory, then dropped.
    const keys = new Map<number, string>();
    for (const e of entries) keys.set(e, byteString(this.name(e)));
    entries.sort((a, b) => {
      const x = keys.get(a) as string;
      const y = keys.get(b) as string;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    for (let k = 0; k < count; k++) {
      this.entryNext[entries[k] as number] = k + 1 < count ? (entries[k + 1] as number) : 0;
    }
    this.head[dir] = count ? (entries[0] as number) : 0;
    this.flags[dir] = (this.flags[dir] as number) | SORTED;
    return entries;
  }

  /** The path of the entry `e` from the root, as bytes ("a/b/c", no leading slash). */
  entryPath(e: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (let at = e; at; at = this.up[this.entryDir[at] as number] as number) {
      const name = this.name(at);
      parts.push(name);
      length += name.length + 1;
    }
    const out = new Uint8Array(Math.max(0, length - 1));
    let pos = 0;
    for (let i = parts.length - 1; i >= 0; i--) {
      out.set(parts[i] as Uint8Array, pos);
      pos += (parts[i] as Uint8Array).length;
      if (i > 0) out[pos++] = SLASH;
    }
    return out;
  }

  /** Text of a directory's path for messages ("/" for the root). */
  dirPathText(dir: number): string {
    const e = this.up[dir] as number;
    return `/${DECODER.decode(e ? this.entryPath(e) : EMPTY)}`;
  }

  /**
   * The content of file `n`, made by `factory` from its origin: for a
   * directory source, the source root joined with the path the file was
   * found at; for a spool, its offset (named by the tar and that path).
   */
  content(n: number, factory: ContentFactory): ContentRef {
    const origin = this.origins[this.origin[n] as number] as ContentOrigin;
    if (origin.kind === "spool") {
      return factory(origin, EMPTY, this.ref[n] as number, this.#spoolLabel(n, origin));
    }
    return factory(origin, this.#sourcePath(n, origin), 0, undefined);
  }

  /**
   * Where the bytes of file `n` are, without a {@linkcode ContentRef}: the
   * same file and offset as its content, and a label for messages when the
   * path does not name it (a tar member in the spool).
   */
  source(n: number): { path: string | Uint8Array; offset: number; label: string | undefined } {
    const origin = this.origins[this.origin[n] as number] as ContentOrigin;
    if (origin.kind === "spool") {
      return {
        path: origin.path,
        offset: this.ref[n] as number,
        label: this.#spoolLabel(n, origin),
      };
    }
    return { path: this.#sourcePath(n, origin), offset: 0, label: undefined };
  }

  #spoolLabel(n: number, origin: { label: string }): string {
    return `${origin.label}:${DECODER.decode(this.entryPath(this.up[n] as number))}`;
  }

  /** A directory source's root joined with the path file `n` was found at. */
  #sourcePath(n: number, origin: { root: Uint8Array }): Uint8Array {
    const originIndex = this.origin[n] as number;
    const e = this.up[n] as number;
    // Files come in directory order: their directory's path is made once.
    const dir = this.entryDir[e] as number;
    if (dir !== this.#prefixDir || originIndex !== this.#prefixOrigin) {
      const up = this.up[dir] as number;
      const rel = up ? this.entryPath(up) : EMPTY;
      const prefix = new Uint8Array(origin.root.length + rel.length + (rel.length ? 2 : 1));
      prefix.set(origin.root);
      prefix[origin.root.length] = SLASH;
      prefix.set(rel, origin.root.length + 1);
      if (rel.length) prefix[prefix.length - 1] = SLASH;
      this.#prefix = prefix;
      this.#prefixDir = dir;
      this.#prefixOrigin = originIndex;
    }
    const name = this.name(e);
    const path = new Uint8Array(this.#prefix.length + name.length);
    path.set(this.#prefix);
    path.set(name, this.#prefix.length);
    return path;
  }

  /** The source path of the last directory {@linkcode FsTree.content} used (cleared when the tree changes). */
  #prefix = EMPTY;
  #prefixDir = -1;
  #prefixOrigin = -1;

  /** Calls `visit` for every node reachable from the root, once each (hard links once). */
  forEachReachable(visit: (n: number) => void): void {
    const seen = new Uint8Array(this.nodeCount);
    const stack = [FsTree.ROOT];
    while (stack.length) {
      const n = stack.pop() as number;
      if (seen[n]) continue;
      seen[n] = 1;
      visit(n);
      if (this.kind[n] === NodeKind.DIR)
        for (let e = this.head[n] as number; e; e = this.entryNext[e] as number)
          stack.push(this.entryNode[e] as number);
    }
  }
}

/** A power of two at least twice `entries` (a half-full table at most). */
function tableSize(entries: number): number {
  let size = 1024;
  while (size < entries * 2 + 2) size *= 2;
  return size;
}

/** Names over 255 bytes are refused when planned (with their path); the tree holds up to 65535. */
function checkNameLength(length: number): void {
  if (length > 0xffff) throw new RangeError(`Cannot store a name of ${length} bytes: at most 255`);
}

/** A string of one char per byte (so comparing strings compares the bytes). */
function byteString(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}

/** Splits a slash-separated path (bytes) into name parts, dropping empty parts and "."; rejects "..". */
export function splitPath(path: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === SLASH) {
      if (i > start) {
        const part = path.subarray(start, i);
        const dots = part.length <= 2 && part.every((b) => b === 0x2e) ? part.length : 0;
        if (dots === 2)
          throw new RangeError(`Cannot use path with "..": ${new TextDecoder().decode(path)}`);
        if (dots !== 1) out.push(part);
      }
      start = i + 1;
    }
  }
  return out;
}
