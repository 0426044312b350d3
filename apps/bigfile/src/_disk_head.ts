/**
 * The head of the disk, up to the partition: sector 0 with the table (and
 * GRUB's boot.img), the gap (with GRUB's core.img), planned in memory before
 * any output. It is at most 1 MiB (the gap of MiB alignment).
 */

import { type GrubInstallPlan, planGrubInstall } from "@bigfile/grub-mbr";
import { encodeTable, type PartitionTable } from "@bigfile/mbr";

/** GRUB's images for the head. */
export interface HeadGrub {
  bootImg: Uint8Array;
  coreImg: Uint8Array;
}

/** The planned head. */
export interface DiskHead {
  bytes: Uint8Array;
  grub?: GrubInstallPlan;
}

/**
 * Sector 0 and the gap before `partitionOffset`, with GRUB installed into
 * them when `grub` is given (exactly as grub-mbr install would on the whole
 * disk: the rest of the disk plays no part in the plan).
 */
export async function planDiskHead(
  table: PartitionTable,
  partitionOffset: number,
  diskSize: number,
  grub?: HeadGrub,
): Promise<DiskHead> {
  const bytes = new Uint8Array(partitionOffset);
  const [sector0] = encodeTable(table);
  bytes.set((sector0 as { bytes: Uint8Array }).bytes, 0);
  if (!grub) return { bytes };
  // The planner reads the head; beyond it (the partition, not yet written) it sees zeros.
  const reader = {
    size: diskSize,
    async read(offset: number, length: number): Promise<Uint8Array> {
      const out = new Uint8Array(length);
      if (offset < bytes.length)
        out.set(bytes.subarray(offset, Math.min(bytes.length, offset + length)));
      return out;
    },
  };
  const plan = await planGrubInstall(reader, grub.bootImg, grub.coreImg);
  for (const w of plan.writes) {
    if (w.offset + w.data.length > bytes.length)
      throw new RangeError(
        `Cannot install GRUB: its write at byte ${w.offset} reaches into the partition`,
      );
    bytes.set(w.data, w.offset);
  }
  return { bytes, grub: plan };
}
