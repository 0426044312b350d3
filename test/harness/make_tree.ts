/**
 * A seeded generator of directory trees that cover every file type, every
 * block-map boundary and the name and metadata corners an ext2/ext3 writer
 * must get right. Run as root (it creates device nodes and sets owners).
 *
 * @module
 */
import { chmod, lchown, link, lutimes, mkdir, open, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";

/** Options of {@link makeTree}. */
export interface MakeTreeOptions {
  /** Seed: the same seed and options give the same tree (names, bytes, metadata). @default "bigfile" */
  seed?: string;
  /** Block size whose block-map boundaries get files (1024, 2048 or 4096). @default 1024 */
  blockSize?: number;
  /** Entries in the big directory. @default 3000 */
  bigDirEntries?: number;
  /** Depth of the deep directory chain. @default 40 */
  depth?: number;
  /** Small random files scattered around. @default 30 */
  randomFiles?: number;
  /**
   * Files of (12), (12 + bs/4) blocks, each -1/0/+1 block, written in full.
   * @default true
   */
  boundaryFiles?: boolean;
  /**
   * Files of (12 + bs/4 + (bs/4)^2) blocks -1/0/+1, the double-to-triple
   * indirect edge: "dense" writes them in full (64 MiB each at 1 KiB blocks),
   * "sparse" puts data in their first and last blocks only, false leaves them
   * out. @default "sparse" for 1 and 2 KiB blocks, false for 4 KiB (4 GiB each)
   */
  doubleIndirect?: "dense" | "sparse" | false;
  /**
   * A sparse file reaching the triple-indirect map (a few bytes far in), a
   * file that is all hole, one with a hole in the middle.
   * @default true for 1 and 2 KiB blocks; false for 4 KiB (over 4 GiB)
   */
  sparseFiles?: boolean;
  /** Devices, FIFOs and a socket. @default true */
  specialFiles?: boolean;
  /** Random owners (uids and gids above 65535 included). @default true */
  owners?: boolean;
  /** Random mtimes and atimes. @default true */
  times?: boolean;
}

/** What {@link makeTree} made. */
export interface MadeTree {
  root: string;
  /** Entries created below the root. */
  entries: number;
  /** Bytes of file data written. */
  bytes: number;
  /** Notable paths (relative to the root) by what they test. */
  paths: Record<string, string>;
}

/** Smaller trees for quick tests: 200-entry big dir, depth 8, few random files. */
export const SMALL_TREE: Readonly<MakeTreeOptions> = {
  bigDirEntries: 200,
  depth: 8,
  randomFiles: 8,
};

/** A seeded PRNG (mulberry32 over an FNV-1a hash of the seed). */
export function seededRandom(seed: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic bytes from a seed (xorshift32), fast enough for tens of MiB. */
function fillBytes(state: { x: number }, out: Uint8Array): void {
  const words = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >>> 2);
  let x = state.x || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  state.x = x;
}

interface Meta {
  path: string;
  kind: "file" | "dir" | "symlink" | "special";
  mode?: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
}

/**
 * Fills `root` (created if absent) with a seeded tree:
 * - `regular/`: empty, 1-byte and page-edge files, random small files;
 * - `boundary/`: files of 12, 12+bs/4 and 12+bs/4+(bs/4)^2 blocks, each ±1
 *   block (the direct / indirect / double / triple map edges; the largest
 *   sparse by default, left out at 4 KiB blocks unless asked);
 * - `sparse/`: a sparse file reaching the triple-indirect map, a file that is
 *   all hole, a hole in the middle (1 and 2 KiB blocks by default);
 * - `links/`: fast and slow symlinks, a dangling one, one to a directory, an
 *   absolute one; hard links across directories (`links/hard-a`,
 *   `regular/hard-b`, `deep/hard-c`);
 * - `special/`: char and block devices (small and large numbers), a FIFO, a
 *   socket;
 * - `names/`: 255-byte ASCII and UTF-8 names, spaces, quotes, leading dash;
 * - `big-dir/`: thousands of entries; `deep/`: a long chain of directories;
 * - `modes/`: setuid, setgid, sticky, 000 and 777 files and directories;
 * - owners and atimes/mtimes random (seeded), set last, deepest first.
 *
 * @example
 * ```ts
 * const tree = await makeTree(join(tmp, "root"), { seed: "t1", ...SMALL_TREE });
 * ```
 */
export async function makeTree(root: string, options: MakeTreeOptions = {}): Promise<MadeTree> {
  const seed = options.seed ?? "bigfile";
  const rnd = seededRandom(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const bytesState = { x: (int(0xffffffff) | 1) >>> 0 };
  const bs = options.blockSize ?? 1024;
  const metas: Meta[] = [];
  const paths: Record<string, string> = {};
  let bytes = 0;

  const owner = () => {
    if (options.owners === false) return { uid: 0, gid: 0 };
    const ids = [0, 0, 1, 100, 1000, 65534, 65535, 65536, 123456, 4000000000];
    return { uid: ids[int(ids.length)] ?? 0, gid: ids[int(ids.length)] ?? 0 };
  };
  const time = () =>
    options.times === false ? 1700000000 : 315532800 + int(2147483647 - 315532800);
  const record = (path: string, kind: Meta["kind"], mode?: number) => {
    const m: Meta = { path, kind, ...owner(), atime: time(), mtime: time() };
    if (mode !== undefined) m.mode = mode;
    metas.push(m);
  };
  const abs = (p: string) => join(root, p);

  const dir = async (p: string, mode = 0o755) => {
    await mkdir(abs(p), { recursive: true });
    record(p, "dir", mode);
  };
  const file = async (p: string, size: number, mode = 0o644) => {
    const handle = await open(abs(p), "w");
    try {
      const chunk = new Uint8Array(Math.min(size, 1 << 20));
      let left = size;
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        fillBytes(bytesState, chunk.subarray(0, n));
        await handle.write(chunk, 0, n);
        left -= n;
      }
    } finally {
      await handle.close();
    }
    bytes += size;
    record(p, "file", mode);
  };
  /** A sparse file of `size` bytes with data only at the given offsets. */
  const sparse = async (p: string, size: number, at: readonly number[]) => {
    const handle = await open(abs(p), "w");
    try {
      await handle.truncate(size);
      for (const offset of at) {
        const data = new Uint8Array(Math.min(100, size - offset));
        fillBytes(bytesState, data);
        await handle.write(data, 0, data.length, offset);
        bytes += data.length;
      }
    } finally {
      await handle.close();
    }
    record(p, "file", 0o644);
  };
  const sym = async (p: string, target: string) => {
    await symlink(target, abs(p));
    record(p, "symlink");
  };

  await mkdir(root, { recursive: true });

  // Regular files.
  await dir("regular");
  for (const [name, size] of [
    ["empty", 0],
    ["one-byte", 1],
    ["block-minus-1", bs - 1],
    ["block", bs],
    ["block-plus-1", bs + 1],
    ["page", 4096],
  ] as const) {
    await file(`regular/${name}`, size);
  }
  for (let i = 0; i < (options.randomFiles ?? 30); i++) {
    await file(`regular/random-${i}`, int(3 * bs * 4));
  }
  paths.empty = "regular/empty";

  // Block-map boundaries.
  const perBlock = bs / 4;
  await dir("boundary");
  if (options.boundaryFiles !== false) {
    for (const [label, blocks] of [
      ["direct", 12],
      ["indirect", 12 + perBlock],
    ] as const) {
      for (const delta of [-1, 0, 1]) {
        const name = `${label}-${blocks + delta}-blocks`;
        await file(`boundary/${name}`, (blocks + delta) * bs);
        paths[`${label}${delta < 0 ? "Minus1" : delta > 0 ? "Plus1" : ""}`] = `boundary/${name}`;
      }
    }
  }
  const double = 12 + perBlock + perBlock * perBlock;
  const doubleMode = options.doubleIndirect ?? (bs <= 2048 ? "sparse" : false);
  if (doubleMode !== false) {
    for (const delta of [-1, 0, 1]) {
      const name = `double-${double + delta}-blocks`;
      const size = (double + delta) * bs;
      if (doubleMode === "dense") await file(`boundary/${name}`, size);
      else await sparse(`boundary/${name}`, size, [0, size - 100]);
      paths[`double${delta < 0 ? "Minus1" : delta > 0 ? "Plus1" : ""}`] = `boundary/${name}`;
    }
  }

  // Sparse files.
  await dir("sparse");
  if (options.sparseFiles ?? bs <= 2048) {
    const triple = (double + 10) * bs + 7;
    await sparse("sparse/triple-indirect", triple + 100, [triple]);
    await sparse("sparse/all-hole", 5 * bs * perBlock, []);
    await sparse("sparse/middle-hole", 100 * bs, [0, 99 * bs]);
    paths.tripleIndirect = "sparse/triple-indirect";
  }

  // Symlinks and hard links.
  await dir("links");
  await sym("links/fast", "../regular/one-byte");
  const slowTarget = `../regular/${"x/../".repeat(30)}block`;
  await sym("links/slow", slowTarget);
  await sym("links/dangling", "does/not/exist");
  await sym("links/to-dir", "../regular");
  await sym("links/absolute", "/etc/hostname");
  await sym("links/max-fast", "f".repeat(59));
  await sym("links/min-slow", "s".repeat(60));
  paths.fastSymlink = "links/fast";
  paths.slowSymlink = "links/slow";
  paths.danglingSymlink = "links/dangling";
  await file("links/hard-a", 3 * bs + 17);
  await file("links/hard-single", 10);
  // Hard links: created after the deep chain exists (below).

  // Special files.
  await dir("special");
  if (options.specialFiles !== false) {
    const nodes: Array<[string, string, number, number]> = [
      ["null-like", "c", 1, 3],
      ["sda1-like", "b", 8, 1],
      ["big-char", "c", 259, 70000],
      ["big-block", "b", 4095, 1048575],
    ];
    for (const [name, kind, major, minor] of nodes) {
      await execa("mknod", [abs(`special/${name}`), kind, String(major), String(minor)]);
      record(`special/${name}`, "special", 0o660);
    }
    await execa("mknod", [abs("special/fifo"), "p"]);
    record("special/fifo", "special", 0o644);
    await execa("python3", [
      "-c",
      "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
      abs("special/socket"),
    ]);
    record("special/socket", "special", 0o755);
    paths.charDevice = "special/null-like";
    paths.blockDevice = "special/sda1-like";
    paths.fifo = "special/fifo";
    paths.socket = "special/socket";
  }

  // Names.
  await dir("names");
  const ascii255 = "n".repeat(255);
  const utf8255 = `${"é".repeat(127)}x`; // 127 * 2 + 1 = 255 bytes
  for (const name of [
    ascii255,
    utf8255,
    "with space",
    "quote'single",
    'quote"double',
    "-leading-dash",
    ".hidden",
    "...",
    "日本語のファイル名",
    "emoji-😀",
    "back\\slash",
    "semi;colon&amp",
  ]) {
    await file(`names/${name}`, int(200));
  }
  await dir(`names/${"d".repeat(255)}`);
  paths.name255 = `names/${ascii255}`;
  paths.utf8Name255 = `names/${utf8255}`;

  // A big directory.
  await dir("big-dir");
  const entries = options.bigDirEntries ?? 3000;
  for (let i = 0; i < entries; i++) {
    const name = `entry-${String(i).padStart(5, "0")}-${"z".repeat(int(40))}`;
    if (i % 97 === 0) await dir(`big-dir/${name}`);
    else await file(`big-dir/${name}`, i % 7 === 0 ? int(64) : 0);
  }
  paths.bigDir = "big-dir";

  // Deep nesting.
  let deep = "deep";
  await dir(deep);
  for (let i = 0; i < (options.depth ?? 40); i++) {
    deep = `${deep}/level-${i}`;
    await dir(deep);
  }
  await file(`${deep}/bottom`, 42);
  paths.deepest = `${deep}/bottom`;

  // Hard links across directories (share the first path's metadata).
  await link(abs("links/hard-a"), abs("regular/hard-b"));
  await link(abs("links/hard-a"), abs(`deep/hard-c`));
  paths.hardLinks = "links/hard-a regular/hard-b deep/hard-c";

  // Odd modes.
  await dir("modes");
  await file("modes/setuid", 10, 0o4755);
  await file("modes/setgid", 10, 0o2755);
  await file("modes/setuid-setgid-sticky", 10, 0o7777);
  await file("modes/none", 10, 0o000);
  await file("modes/all", 10, 0o777);
  await dir("modes/sticky-dir", 0o1777);
  await dir("modes/setgid-dir", 0o2775);
  await dir("modes/none-dir", 0o000);
  await dir("modes/all-dir", 0o777);

  // Metadata last, deepest first, so directory times are not disturbed.
  metas.sort((a, b) => (a.path < b.path ? 1 : -1));
  for (const m of metas) {
    const p = abs(m.path);
    await lchown(p, m.uid, m.gid);
    if (m.mode !== undefined && m.kind !== "symlink") await chmod(p, m.mode);
    await lutimes(p, m.atime, m.mtime);
  }
  return { root, entries: metas.length + 2, bytes, paths };
}

/** Writes `text` to `root/path`, creating parents (a tiny convenience for tests). */
export async function writeTreeFile(
  root: string,
  path: string,
  text: string | Uint8Array,
): Promise<void> {
  const full = join(root, path);
  await mkdir(join(full, ".."), { recursive: true });
  await writeFile(full, text);
}
