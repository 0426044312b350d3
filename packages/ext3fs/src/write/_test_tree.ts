import { execFileSync } from "node:child_process";
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTar } from "@bigfile/blockdev";

/** Deterministic bytes (a simple xorshift), never all zero per block. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x & 0xff) | 1;
  }
  return out;
}

/** Sizes around every block-map boundary for 1, 2 and 4 KiB blocks. */
export function boundarySizes(): number[] {
  const sizes = new Set<number>([0, 1, 59, 60, 511, 512, 513]);
  for (const bs of [1024, 2048, 4096]) {
    const apb = bs / 4;
    for (const blocks of [1, 12, 12 + apb]) {
      for (const d of [-1, 0, 1]) sizes.add(blocks * bs + d);
    }
  }
  return [...sizes].filter((s) => s >= 0 && s <= 1100 * 1024).sort((a, b) => a - b);
}

/**
 * Builds the torture tree in `dir` (which must exist): files at every
 * block-map boundary, a sparse file reaching triple indirect at 1 KiB blocks,
 * a sparse file with holes in the middle, 255-byte and UTF-8 names, a
 * directory of `bigDir` entries, deep nesting, short/long/dangling symlinks,
 * hard links across directories, a FIFO, odd modes and times. Devices and
 * odd owners come from {@linkcode tortureTar} (no root needed).
 */
export function makeTortureTree(dir: string, bigDir = 3000): void {
  const b = join(dir, "bounds");
  mkdirSync(b);
  for (const [i, size] of boundarySizes().entries())
    writeFileSync(join(b, `f${size}`), patternBytes(size, i + 1));
  // Triple indirect at 1 KiB blocks starts at logical block 12+256+65536 = 65804.
  const tind = openSync(join(dir, "sparse-tind"), "w");
  writeSync(tind, patternBytes(100, 7), 0, 100, 0);
  writeSync(tind, patternBytes(3000, 8), 0, 3000, 65804 * 1024 - 1000);
  writeSync(tind, patternBytes(10, 9), 0, 10, 70000 * 1024);
  closeSync(tind);
  const sparse = openSync(join(dir, "sparse-middle"), "w");
  writeSync(sparse, patternBytes(5000, 10), 0, 5000, 0);
  writeSync(sparse, patternBytes(5000, 11), 0, 5000, 300 * 1024);
  closeSync(sparse);
  writeFileSync(join(dir, "zeros-tail"), new Uint8Array(20000));
  const names = join(dir, "names");
  mkdirSync(names);
  writeFileSync(join(names, "x".repeat(255)), "long name\n");
  writeFileSync(join(names, "ünïcødé-名前-🙂"), "utf-8\n");
  writeFileSync(join(names, "with space & 'quotes'"), "odd\n");
  const many = join(dir, "many");
  mkdirSync(many);
  for (let i = 0; i < bigDir; i++)
    writeFileSync(join(many, `entry-${String(i).padStart(5, "0")}-with-a-longer-name`), "");
  let deep = join(dir, "deep");
  for (let i = 0; i < 40; i++) {
    deep = join(deep, `d${i}`);
  }
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, "bottom"), "deep\n");
  const links = join(dir, "links");
  mkdirSync(links);
  symlinkSync("../bounds/f1", join(links, "short"));
  symlinkSync(
    `${"../".repeat(0)}${"long/".repeat(20)}target-that-does-not-exist`,
    join(links, "long-dangling"),
  );
  symlinkSync("x".repeat(59), join(links, "exactly59"));
  symlinkSync("y".repeat(60), join(links, "exactly60"));
  symlinkSync("nowhere", join(links, "dangling"));
  mkdirSync(join(dir, "hard"));
  writeFileSync(join(dir, "hard", "a"), "hard link\n");
  linkSync(join(dir, "hard", "a"), join(links, "hard-b"));
  linkSync(join(dir, "hard", "a"), join(dir, "hard-c"));
  execFileSync("mkfifo", [join(dir, "fifo")]);
  try {
    // A Unix socket file (bind leaves it behind); skipped where python3 is missing.
    execFileSync("python3", [
      "-c",
      "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
      join(dir, "socket"),
    ]);
  } catch {}
  const modes = join(dir, "modes");
  mkdirSync(modes);
  for (const mode of [0o4755, 0o2755, 0o1777, 0o000, 0o777, 0o6711]) {
    const p = join(modes, `m${mode.toString(8)}`);
    writeFileSync(p, `mode ${mode.toString(8)}\n`, { mode });
    execFileSync("chmod", [mode.toString(8), p]);
  }
  mkdirSync(join(modes, "sticky-dir"));
  execFileSync("chmod", ["1777", join(modes, "sticky-dir")]);
  utimesSync(join(modes, "m777"), 1_000_000_000.5, 946_684_800.25);
  utimesSync(join(modes, "m0"), 4_000_000_000, 4_102_444_800);
}

/** A tar overlay with devices, odd owners and a file replacing one from the tree. */
export async function* tortureTar(): AsyncGenerator<Uint8Array> {
  yield* writeTar([
    { path: "dev", type: "directory", mode: 0o755, uid: 0, gid: 0, mtime: 1_600_000_000 },
    { path: "dev/null", type: "char", mode: 0o666, devmajor: 1, devminor: 3, mtime: 1_600_000_000 },
    {
      path: "dev/sda1",
      type: "block",
      mode: 0o660,
      gid: 6,
      devmajor: 8,
      devminor: 1,
      mtime: 1_600_000_000,
    },
    {
      path: "dev/big",
      type: "char",
      mode: 0o600,
      devmajor: 300,
      devminor: 70000,
      mtime: 1_600_000_000,
    },
    { path: "dev/fifo", type: "fifo", mode: 0o644, mtime: 1_600_000_000 },
    {
      path: "owned",
      type: "file",
      mode: 0o640,
      uid: 1000,
      gid: 100,
      mtime: 1_234_567_890,
      body: new TextEncoder().encode("owned\n"),
      size: 6,
    },
    {
      path: "owned-big-ids",
      type: "file",
      mode: 0o600,
      uid: 70000,
      gid: 80000,
      mtime: 1_234_567_890,
      body: new Uint8Array(0),
      size: 0,
    },
    {
      path: "hard/a",
      type: "file",
      mode: 0o644,
      uid: 5,
      gid: 6,
      mtime: 1_500_000_000,
      body: new TextEncoder().encode("replaced\n"),
      size: 9,
    },
    {
      path: "implicit/parent/file",
      type: "file",
      mode: 0o644,
      mtime: 1_500_000_000,
      body: new TextEncoder().encode("x"),
      size: 1,
    },
    { path: "tar-link", type: "hardlink", linkname: "owned", mtime: 1_234_567_890 },
  ]);
}

/** A work directory holding the torture tree (`tree`) and its tar overlay (`tar`). */
export interface TortureFixture {
  work: string;
  tree: string;
  tarPath: string;
}

/** Makes a {@linkcode TortureFixture} in a new temporary directory (remove `work` after). */
export async function makeTortureFixture(prefix: string, bigDir = 500): Promise<TortureFixture> {
  const work = await mkdtemp(join(tmpdir(), prefix));
  const tree = join(work, "tree");
  mkdirSync(tree);
  makeTortureTree(tree, bigDir);
  const chunks: Uint8Array[] = [];
  for await (const c of tortureTar()) chunks.push(c.slice());
  const tarPath = join(work, "overlay.tar");
  writeFileSync(tarPath, Buffer.concat(chunks));
  return { work, tree, tarPath };
}
