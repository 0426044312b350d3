import { type ByteReader, u32, u64 } from "./_reader.ts";
import { type EmbeddingArea, findEmbeddingArea } from "./embedding_area.ts";
import { coreRedundancy, GRUB_LAYOUT, readBlocklists } from "./grub_layout.ts";
import { indexOfText, isGrub2BootSector } from "./plan_grub_install.ts";
import { checkReedSolomon } from "./reed_solomon.ts";

/** What kind of boot code sector 0 holds. */
export type BootCodeKind = "grub2" | "grub-legacy" | "syslinux" | "other" | "none";

/** The state of a GRUB 2 core.img found through sector 0. */
export interface CoreInspection {
  /** LBA of core.img's first sector (boot.img's kernel sector). */
  sector: number;
  /** Blocklists of its first sector: where the rest is loaded from. */
  blocklists: { start: number; sectors: number; segment: number }[];
  /** Sectors loaded in all (first sector included). */
  sectors: number;
  /** Reed-Solomon parity bytes after core.img (0: unprotected). */
  redundancy: number;
  /** core.img's own size in bytes, when parity tells it. */
  coreBytes?: number;
  /** `intact`: parity checks; `repairable`: damaged but correctable at boot; `damaged`: beyond repair; `unprotected`: no parity. */
  integrity: "intact" | "repairable" | "damaged" | "unprotected" | "unreadable";
  /** Bytes the parity locates as wrong. */
  damagedBytes: number;
  /** Why the core could not be read, for `unreadable`. */
  problem?: string;
}

/** What {@linkcode inspectBoot} found. */
export interface BootInspection {
  bootSignature: boolean;
  bootCode: BootCodeKind;
  /** GRUB 2 only. */
  grub?: {
    kernelSector: number;
    bootDrive: number;
    /** Whether the floppy drive check is patched out (a hard-disk install). */
    hardDiskPatch: boolean;
    core: CoreInspection;
  };
  /** GRUB Legacy only: stage1's pointer to stage2 (or stage1.5). */
  grubLegacy?: { stage2Sector: number };
  /** The embedding area GRUB would use, or why there is none. */
  embeddingArea?: EmbeddingArea;
  embeddingAreaProblem?: string;
}

const SYSLINUX_MBR_START = [
  0x33, 0xc0, 0xfa, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00, 0x7c, 0x89, 0xe6, 0x06, 0x57, 0x8e, 0xc0,
];

/** Classifies boot code in sector 0 (bytes 0x000-0x1B7). */
export function bootCodeKind(sector0: Uint8Array): BootCodeKind {
  if (isGrub2BootSector(sector0)) return "grub2";
  if (
    sector0[0] === 0xeb &&
    sector0[1] === 0x48 &&
    indexOfText(sector0.subarray(0, 0x1b8), "GRUB ") >= 0
  ) {
    return "grub-legacy";
  }
  if (SYSLINUX_MBR_START.every((b, i) => sector0[i] === b)) return "syslinux";
  if (sector0.subarray(0, 0x1b8).every((b) => b === 0)) return "none";
  return "other";
}

/**
 * Reports what boot code an image's sector 0 holds (GRUB 2 boot.img and where
 * its core is, GRUB Legacy stage1, syslinux, other, none), the embedding area,
 * and whether a GRUB 2 core.img is intact by its Reed-Solomon parity.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { inspectBoot, installGrub } from "@bigfile/grub-mbr";
 * import { readFile } from "node:fs/promises";
 * import { FileDevice, writeToFile } from "@bigfile/blockdev/node";
 * import { planWrap, wrapPartition } from "@bigfile/mbr";
 * import { buildCoreImage, findGrubDir } from "@bigfile/grub-mbr/node";
 * const grubDir = await findGrubDir(); // $GRUB_DIR or /usr/lib/grub/i386-pc (grub-pc-bin)
 * const bootImg = await readFile(`${grubDir}/boot.img`);
 * const coreImg = await buildCoreImage(grubDir); // grub-mkimage -O i386-pc ... biosdisk part_msdos ext2
 * // A disk with partition 1 at 1 MiB: a 2047-sector MBR gap to embed core.img in.
 * await writeToFile(wrapPartition(ReadableStream.from([new Uint8Array(8 << 20)]), planWrap({ partitionSize: 8 << 20 })), "disk.img");
 * const disk = await FileDevice.open("disk.img");
 * assert.equal((await inspectBoot(disk)).grub, undefined); // no GRUB yet
 * await installGrub(disk, bootImg, coreImg);
 * const report = await inspectBoot(disk);
 * assert.equal(report.bootCode, "grub2");
 * assert.equal(report.grub?.core.integrity, "intact");
 * await disk.close();
 * ```
 */
export async function inspectBoot(reader: ByteReader): Promise<BootInspection> {
  const sector0 = await reader.read(0, 512);
  const report: BootInspection = {
    bootSignature: sector0[510] === 0x55 && sector0[511] === 0xaa,
    bootCode: bootCodeKind(sector0),
  };
  try {
    report.embeddingArea = await findEmbeddingArea(reader);
  } catch (error) {
    report.embeddingAreaProblem = error instanceof Error ? error.message : String(error);
  }
  if (report.bootCode === "grub-legacy") report.grubLegacy = { stage2Sector: u32(sector0, 0x44) };
  if (report.bootCode === "grub2") {
    const kernelSector = u64(sector0, GRUB_LAYOUT.kernelSector);
    report.grub = {
      kernelSector,
      bootDrive: sector0[GRUB_LAYOUT.bootDrive] as number,
      hardDiskPatch:
        sector0[GRUB_LAYOUT.driveCheck] === 0x90 && sector0[GRUB_LAYOUT.driveCheck + 1] === 0x90,
      core: await inspectCore(reader, kernelSector),
    };
  }
  return report;
}

async function inspectCore(reader: ByteReader, sector: number): Promise<CoreInspection> {
  const base: CoreInspection = {
    sector,
    blocklists: [],
    sectors: 0,
    redundancy: 0,
    integrity: "unreadable",
    damagedBytes: 0,
  };
  try {
    const first = await reader.read(sector * 512, 512);
    const blocklists = readBlocklists(first);
    base.blocklists = blocklists;
    const total = 1 + blocklists.reduce((n, b) => n + b.sectors, 0);
    base.sectors = total;
    if (blocklists.length === 0 || total > GRUB_LAYOUT.maxCoreSectors) {
      return { ...base, problem: `sector ${sector} has no usable blocklist` };
    }
    const core = new Uint8Array(total * 512);
    core.set(first);
    let at = 512;
    for (const b of blocklists) {
      core.set(await reader.read(b.start * 512, b.sectors * 512), at);
      at += b.sectors * 512;
    }
    const { redundancy, noRsLength } = coreRedundancy(core);
    base.redundancy = redundancy;
    if (redundancy === 0) return { ...base, integrity: "unprotected" };
    const coreBytes = core.length - redundancy;
    const start = 512 + noRsLength;
    if (redundancy >= core.length || start > coreBytes) {
      return {
        ...base,
        problem: `the redundancy field (${redundancy}) does not fit the ${total} loaded sectors`,
      };
    }
    const check = checkReedSolomon(core, start, coreBytes - start, redundancy);
    const integrity = check.intact
      ? "intact"
      : check.uncorrectableCodewords > 0
        ? "damaged"
        : "repairable";
    return { ...base, coreBytes, integrity, damagedBytes: check.errorOffsets.length };
  } catch (error) {
    return { ...base, problem: error instanceof Error ? error.message : String(error) };
  }
}
