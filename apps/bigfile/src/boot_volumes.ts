import type { BlockDevice } from "@bigfile/blockdev";
import { GPT_PROTECTIVE_TYPE, parseMbr } from "@bigfile/mbr";

/** Why {@linkcode bootFiles} could not give the boot files. */
export type BootFilesErrorCode = "no-config" | "no-entry" | "no-kernel" | "missing-file";

/**
 * A failure of {@linkcode bootFiles}, with a code for callers to tell them apart.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { BootFilesError, bootFiles } from "@bigfile/bigfile";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { build } from "@bigfile/bigfile";
 * await mkdir("rootfs/etc", { recursive: true });
 * await writeFile("rootfs/etc/hostname", "demo\n");
 * await writeFile("vmlinuz", "not a real kernel\n");
 * await writeFile("initrd.img", "not a real initrd\n");
 * await build({ output: "disk.img", size: "auto", rootfs: ["rootfs/"], kernel: "vmlinuz", initrd: "initrd.img" });
 * try {
 *   await bootFiles("disk.img", { entry: 3 }); // the menu has one entry
 *   assert.fail("entry 3 does not exist");
 * } catch (error) {
 *   assert.ok(error instanceof BootFilesError && error.code === "no-entry", String(error));
 * }
 * ```
 */
export class BootFilesError extends Error {
  readonly code: BootFilesErrorCode;
  constructor(code: BootFilesErrorCode, message: string) {
    super(message);
    this.name = "BootFilesError";
    this.code = code;
  }
}

/** A place pygrub looks for a filesystem: a primary partition, or the whole disk (partition 0). */
export interface BootVolume {
  /** Partition number 1-4, or 0 for a disk without a partition table. */
  partition: number;
  /** Byte offset in the image. */
  offset: number;
  /** Length in bytes (the partition's, from the table). */
  length: number;
}

/**
 * The filesystems pygrub looks at, in its order: the primary partitions of a
 * DOS table in slot order (Xen 4.17's pygrub under Python 3 never moves the
 * active one first), or the whole disk when sector 0 has no table. Logical
 * partitions are invisible to pygrub, and so here.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileDevice } from "@bigfile/blockdev/node";
 * import { bootVolumes } from "@bigfile/bigfile";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { build } from "@bigfile/bigfile";
 * await mkdir("rootfs/etc", { recursive: true });
 * await writeFile("rootfs/etc/hostname", "demo\n");
 * await writeFile("vmlinuz", "not a real kernel\n");
 * await writeFile("initrd.img", "not a real initrd\n");
 * await build({ output: "disk.img", size: "auto", rootfs: ["rootfs/"], kernel: "vmlinuz", initrd: "initrd.img" });
 * const disk = await FileDevice.open("disk.img", { readOnly: true });
 * const volumes = await bootVolumes(disk); // [{ partition: 1, offset: 1048576, length: ... }]
 * assert.equal(volumes[0]?.partition, 1);
 * await disk.close();
 * ```
 */
export async function bootVolumes(disk: BlockDevice): Promise<BootVolume[]> {
  const whole = [{ partition: 0, offset: 0, length: disk.size }];
  if (disk.size < 512) return whole;
  let entries: ReturnType<typeof parseMbr>["entries"];
  try {
    entries = parseMbr(await disk.read(0, 512)).entries;
  } catch {
    return whole; // no 0x55AA: a filesystem on the whole disk
  }
  if (entries.some((e) => e.type === GPT_PROTECTIVE_TYPE)) {
    throw new BootFilesError(
      "no-config",
      "the image is partitioned with GPT (protective MBR); bigfile reads DOS partition tables only",
    );
  }
  const out: BootVolume[] = [];
  for (const e of entries) {
    if (e.start === 0) continue;
    const offset = e.start * 512;
    if (offset >= disk.size) continue;
    out.push({
      partition: e.index + 1,
      offset,
      length: Math.min(e.size * 512, disk.size - offset),
    });
  }
  return out.length > 0 ? out : whole;
}
