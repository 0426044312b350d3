// The inputs: generated trees (deterministic, from a fixed seed) and staged
// copies of the Debian root. Generated once per run, outside any timing.
import { execFileSync } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { q } from "./_measure.mjs";

/** xorshift32: the same trees on every run and machine. */
function prng(seed = 12345) {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** 1 MiB of pseudo-random bytes (no zero blocks: every tool must copy them). */
function noise(rnd) {
  const buf = Buffer.alloc(1 << 20);
  for (let i = 0; i < buf.length; i += 4) buf.writeUInt32LE((rnd() | 0x01010101) >>> 0, i);
  return buf;
}

const WORDS = ["lib", "share", "doc", "locale", "python3", "perl", "include", "man", "x86_64"];
const EXTS = ["c", "h", "py", "pm", "gz", "txt", "mo", "so", "json", "html"];

/**
 * `files` small files in a three-level tree (20 x 20 x 10 directories, like
 * /usr/share/...): sizes as in a distribution's tree, 70% under 2 KiB, 25% 2-12
 * KiB, 5% 12-48 KiB (about 4 KiB on average), names of 8 to 40 bytes.
 */
export function smallFilesTree(dir, files) {
  const rnd = prng(1);
  const buf = noise(rnd);
  const made = new Set();
  for (let i = 0; i < files; i++) {
    const a = rnd() % 20;
    const b = rnd() % 20;
    const c = rnd() % 10;
    const d = join(dir, `${WORDS[a % WORDS.length]}-${a}`, `pkg${b}-${"x".repeat(b % 7)}`, `d${c}`);
    if (!made.has(d)) {
      mkdirSync(d, { recursive: true });
      made.add(d);
    }
    const p = rnd() % 100;
    const size = p < 70 ? rnd() % 2048 : p < 95 ? 2048 + (rnd() % 10240) : 12288 + (rnd() % 36864);
    const name = `${WORDS[rnd() % WORDS.length]}_${i}${"n".repeat(rnd() % 24)}.${EXTS[rnd() % EXTS.length]}`;
    const at = rnd() % ((1 << 20) - size);
    writeFileSync(join(d, name), buf.subarray(at, at + size));
  }
}

/** One directory of `entries` files of 0-200 bytes, names of 12 to 60 bytes. */
export function flatTree(dir, entries) {
  const rnd = prng(2);
  const buf = noise(rnd);
  const flat = join(dir, "flat");
  mkdirSync(flat, { recursive: true });
  for (let i = 0; i < entries; i++) {
    const name = `entry-${i}-${"abcdefghijklmnopqrstuvwxyz".slice(0, rnd() % 27)}${"0".repeat(rnd() % 20)}`;
    writeFileSync(join(flat, name), buf.subarray(i % 4096, (i % 4096) + (rnd() % 201)));
  }
}

/**
 * `sparse` files of `sparseBytes` each (1 MiB of data every 512 MiB, holes
 * between) and one dense file of `denseBytes` of pseudo-random data.
 */
export function bigFilesTree(dir, { sparse, sparseBytes, denseBytes }) {
  const rnd = prng(3);
  const buf = noise(rnd);
  mkdirSync(dir, { recursive: true });
  for (let f = 0; f < sparse; f++) {
    const fd = openSync(join(dir, `sparse-${f}.img`), "w");
    for (let at = 0; at < sparseBytes; at += 512 * 2 ** 20) writeSync(fd, buf, 0, buf.length, at);
    ftruncateSync(fd, sparseBytes);
    closeSync(fd);
  }
  const fd = openSync(join(dir, "dense.bin"), "w");
  for (let at = 0; at < denseBytes; at += buf.length) {
    buf.writeUInt32LE(at / buf.length, 0);
    writeSync(fd, buf, 0, Math.min(buf.length, denseBytes - at));
  }
  closeSync(fd);
}

/** One file of `bytes` pseudo-random bytes at `dir/big`. */
export function oneBigFile(dir, bytes) {
  bigFilesTree(dir, { sparse: 0, sparseBytes: 0, denseBytes: bytes });
}

/** The scaling trees: `files` files of 0-1023 bytes, 1000 to a directory. */
export function scalingTree(dir, files) {
  const buf = noise(prng(4));
  for (let i = 0; i < files; i++) {
    const d = join(dir, `d${Math.floor(i / 1000)}`);
    if (i % 1000 === 0) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `file-${i}.txt`), buf.subarray(i % 4096, (i % 4096) + ((i * 37) % 1024)));
  }
}

/** grub.cfg as bigfile build writes it (the standard pipeline's tree gets the same). */
export const GRUB_CFG = `set default=0
set timeout=0
menuentry 'Linux' {
\tlinux /boot/vmlinuz root=/dev/sda1 ro
\tinitrd /boot/initrd.img
}
`;

/**
 * A copy of `root` with what `bigfile build` adds: /boot/vmlinuz,
 * /boot/initrd.img, /boot/grub/grub.cfg and GRUB's i386-pc modules. The
 * standard pipeline and the filter pipeline take this tree; bigfile build takes
 * `root` and the kernel and initrd as flags.
 */
export function stagedRoot(dest, { root, kernel, initrd, grubDir }) {
  execFileSync("cp", ["-a", root, dest]);
  mkdirSync(join(dest, "boot", "grub", "i386-pc"), { recursive: true });
  copyFileSync(kernel, join(dest, "boot", "vmlinuz"));
  copyFileSync(initrd, join(dest, "boot", "initrd.img"));
  writeFileSync(join(dest, "boot", "grub", "grub.cfg"), GRUB_CFG);
  for (const f of readdirSync(grubDir)) {
    if (f.endsWith(".mod") || f.endsWith(".lst")) {
      copyFileSync(join(grubDir, f), join(dest, "boot", "grub", "i386-pc", f));
    }
  }
}

/** Reads every small file once, so each tool starts with the same warm page cache. */
export function warm(dir) {
  execFileSync("sh", ["-c", `find ${q(dir)} -type f -size -64M -exec cat {} + > /dev/null`]);
}
