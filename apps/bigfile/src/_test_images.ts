// Test helper: small disk images made with the packages' own libraries (no
// external tools): a tree -> ext3fs mkfs -> mbr wrap -> a file.
import { mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { writeToFile } from "@bigfile/blockdev/node";
import { mkfs } from "@bigfile/ext3fs/node";
import { planWrap, wrapPartition } from "@bigfile/mbr";

/** A scratch directory removed by `remove()`. */
export async function scratch(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `bigfile-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Options of {@linkcode makeTestImage}. */
export interface TestImageOptions {
  /** Files of the root tree: path -> contents. */
  files: Record<string, string | Uint8Array>;
  /** Filesystem size in bytes. @default 8 MiB */
  fsSize?: number;
  /** Partition size in bytes. @default fsSize */
  partitionSize?: number;
  /** Disk size in bytes. @default 16 MiB */
  diskSize?: number;
  /** @default true */
  bootable?: boolean;
  label?: string;
}

/** A kernel-like payload: `n` bytes of a fixed pattern. */
export function payload(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Makes `dir/disk.img`: one MiB-aligned ext3 partition holding `files`. */
export async function makeTestImage(dir: string, options: TestImageOptions): Promise<string> {
  const root = join(dir, "root");
  await mkdir(root, { recursive: true });
  for (const [path, contents] of Object.entries(options.files)) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, contents);
  }
  const fsSize = options.fsSize ?? 8 << 20;
  const image = await mkfs([root], {
    size: fsSize,
    blockSize: 1024,
    seed: "bigfile-read-test",
    ...(options.label !== undefined && { label: options.label }),
  });
  const plan = planWrap({
    partitionSize: options.partitionSize ?? fsSize,
    diskSize: options.diskSize ?? 16 << 20,
    align: "mib",
    bootable: options.bootable ?? true,
    labelId: 0x12345678,
  });
  const disk = join(dir, "disk.img");
  await writeToFile(wrapPartition(image.chunks(), plan), disk);
  return disk;
}

/** Rewrites the size (in sectors) of MBR entry `n` (1-4) in place. */
export async function setPartitionSectors(
  image: string,
  n: number,
  sectors: number,
): Promise<void> {
  const handle = await open(image, "r+");
  try {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, sectors, true);
    await handle.write(bytes, 0, 4, 0x1be + (n - 1) * 16 + 12);
  } finally {
    await handle.close();
  }
}

/** A grub.cfg in the dialect GRUB and pygrub both read. */
export function grubCfgText(cmdline = "root=/dev/sda1 ro console=ttyS0"): string {
  return `set default=0
set timeout=0
menuentry 'Linux' {
\tlinux /boot/vmlinuz ${cmdline}
\tinitrd /boot/initrd.img
}
menuentry 'Linux (single)' {
\tlinux /boot/vmlinuz ${cmdline} single
}
`;
}
