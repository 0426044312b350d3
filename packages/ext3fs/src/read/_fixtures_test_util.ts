// Builds source trees and filesystem images with mke2fs -d for the reader's tests.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  ftruncateSync,
  lchownSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

/** A fresh scratch directory, removed by the returned cleanup. */
export function scratch(prefix = "ext3fs-read-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const isRoot = process.getuid?.() === 0;

/**
 * A tree with every kind of file the reader must handle: empty, small,
 * multi-level indirect, sparse, long and short symlinks, hard links, a
 * many-entry directory, odd names, devices and a FIFO (when root), varied
 * modes, owners and times.
 */
export function makeTree(root: string): void {
  mkdirSync(join(root, "etc", "deep", "er", "still"), { recursive: true });
  mkdirSync(join(root, "boot"));
  mkdirSync(join(root, "many"));
  writeFileSync(join(root, "empty"), "");
  writeFileSync(join(root, "etc", "hostname"), "bigfile\n");
  writeFileSync(join(root, "boot", "vmlinuz-6.1"), bytes(300_000, 7));
  writeFileSync(join(root, "etc", "deep", "er", "still", "medium"), bytes(13 * 1024 + 5, 9));
  symlinkSync("vmlinuz-6.1", join(root, "boot", "vmlinuz"));
  symlinkSync(`/etc/deep/er/still/${"x".repeat(80)}`, join(root, "long-link"));
  symlinkSync("../etc/hostname", join(root, "boot", "host"));
  linkSync(join(root, "etc", "hostname"), join(root, "hardlink"));
  for (let i = 0; i < 200; i++)
    writeFileSync(join(root, "many", `file-${i}-${"n".repeat(i % 40)}`), `${i}\n`);
  writeFileSync(join(root, "name with spaces é ✓"), "odd\n");
  const sparse = openSync(join(root, "sparse"), "w");
  writeSync(sparse, bytes(5000, 3), 0, 5000, 3 * 1024 * 1024);
  ftruncateSync(sparse, 5 * 1024 * 1024);
  closeSync(sparse);
  if (isRoot) {
    execFileSync("mknod", [join(root, "ttyS0"), "c", "4", "64"]);
    execFileSync("mknod", [join(root, "bigdev"), "b", "259", "300000"]);
    execFileSync("mknod", [join(root, "fifo"), "p"]);
    lchownSync(join(root, "etc", "hostname"), 1000, 100);
    lchownSync(join(root, "boot", "vmlinuz"), 7, 8);
    lchownSync(join(root, "many"), 65534, 65534);
  }
  // After the chowns, which clear set-user-ID bits.
  chmodSync(join(root, "etc", "hostname"), 0o4755);
  chmodSync(join(root, "empty"), 0o600);
  chmodSync(join(root, "boot"), 0o1777);
  utimesSync(
    join(root, "empty"),
    new Date("2001-02-03T04:05:06.789Z"),
    new Date("2002-03-04T05:06:07.123Z"),
  );
  utimesSync(join(root, "etc"), 1_000_000_000, 1_100_000_000);
}

/** Runs mke2fs -d into a new sparse image file. */
export async function mkfsFromTree(
  image: string,
  tree: string,
  options: {
    type: "ext2" | "ext3" | "ext4";
    blockSize: number;
    size?: string;
    inodeSize?: number;
    extra?: string[];
  },
): Promise<void> {
  const args = [
    "-q",
    "-F",
    "-t",
    options.type,
    "-b",
    String(options.blockSize),
    "-E",
    "root_owner=0:0",
  ];
  if (options.inodeSize) args.push("-I", String(options.inodeSize));
  args.push(...(options.extra ?? []), "-d", tree, image, options.size ?? "16M");
  const result = await execa("mke2fs", args, {
    reject: false,
    env: { MKE2FS_CONFIG: "/etc/mke2fs.conf" },
  });
  if (result.exitCode !== 0) throw new Error(`mke2fs failed: ${result.stderr}`);
}

/** Runs debugfs with one request (read-only unless `write`). */
export async function debugfs(
  image: string,
  request: string,
  write = false,
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const args = write ? ["-w", "-R", request, image] : ["-R", request, image];
  const result = await execa("debugfs", args, { reject: false });
  return {
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    exitCode: result.exitCode ?? 1,
  };
}
