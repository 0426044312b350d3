import { type ByteReader, u64 } from "./_reader.ts";
import {
  chooseEmbeddingSectors,
  type EmbeddingArea,
  type ForeignSector,
  findEmbeddingArea,
} from "./embedding_area.ts";
import { GrubInstallError } from "./grub_install_error.ts";
import {
  checkCoreImage,
  GRUB_LAYOUT,
  layOutCore,
  patchBootSector,
  readBlocklists,
} from "./grub_layout.ts";

/**
 * core.img, or a function that makes it once the embedding area (and so the
 * partition scheme and root partition) is known.
 */
export type CoreImageSource = Uint8Array | ((area: EmbeddingArea) => Promise<Uint8Array>);

/** Options for {@linkcode planGrubInstall}. */
export interface GrubInstallOptions {
  /** Protect core.img with Reed-Solomon parity in the rest of the area (GRUB's default). @default true */
  rsCodes?: boolean;
  /** Keep boot.img's floppy drive check (grub-bios-setup --allow-floppy). @default false */
  allowFloppy?: boolean;
  /** Overwrite embedding-area sectors that hold data other than an earlier GRUB core. @default false */
  force?: boolean;
  /** Walk the logical partitions' EBRs (needs random access deep into the image). @default true */
  checkLogical?: boolean;
}

/** One run of bytes to write. */
export interface ImageWrite {
  offset: number;
  data: Uint8Array;
}

/** Everything an install will write, decided before the first byte is written. */
export interface GrubInstallPlan {
  area: EmbeddingArea;
  /** Sectors core.img (and its parity) go to, in order; the first is the kernel sector. */
  sectors: number[];
  /** Gap sectors other software uses, avoided as GRUB does. */
  skipped: ForeignSector[];
  /** core.img's own size in sectors. */
  coreSectors: number;
  /** Reed-Solomon parity bytes written after core.img (0 with rsCodes false). */
  redundancy: number;
  /** The new sector 0. */
  sector0: Uint8Array;
  /** The writes in order: core.img's sectors first, sector 0 last. */
  writes: ImageWrite[];
  /** Whether the area held an earlier GRUB core that is being replaced. */
  replacesEarlierCore: boolean;
  /** Non-zero sectors overwritten because of `force`. */
  forcedSectors: number[];
}

/**
 * Decides what installing GRUB's `bootImg` + `coreImg` into the image behind
 * `reader` writes, exactly as grub-bios-setup would, and refuses (throwing
 * {@linkcode GrubInstallError}) before anything is written when it cannot or
 * must not: no table, bad boot flags, no or too small a gap, GPT without BIOS
 * boot partition, a whole-disk filesystem, or foreign data in the gap.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { planGrubInstall } from "@bigfile/grub-mbr";
 * import { readFile } from "node:fs/promises";
 * import { FileDevice, writeToFile } from "@bigfile/blockdev/node";
 * import { planWrap, wrapPartition } from "@bigfile/mbr";
 * import { buildCoreImage, findGrubDir } from "@bigfile/grub-mbr/node";
 * const grubDir = await findGrubDir(); // $GRUB_DIR or /usr/lib/grub/i386-pc (grub-pc-bin)
 * const bootImg = await readFile(`${grubDir}/boot.img`);
 * const coreImg = await buildCoreImage(grubDir); // grub-mkimage -O i386-pc ... biosdisk part_msdos ext2
 * // A disk with partition 1 at 1 MiB: a 2047-sector MBR gap to embed core.img in.
 * await writeToFile(wrapPartition(ReadableStream.from([new Uint8Array(8 << 20)]), planWrap({ partitionSize: 8 << 20 })), "disk.img");
 * const disk = await FileDevice.open("disk.img", { readOnly: true });
 * const plan = await planGrubInstall(disk, bootImg, coreImg); // nothing written
 * assert.equal(plan.sectors[0], 1);
 * assert.equal(plan.writes.at(-1)?.offset, 0); // sector 0 is written last
 * await disk.close();
 * ```
 */
export async function planGrubInstall(
  reader: ByteReader,
  bootImg: Uint8Array,
  coreSource: CoreImageSource,
  options: GrubInstallOptions = {},
): Promise<GrubInstallPlan> {
  if (bootImg.length !== 512) {
    throw new GrubInstallError(
      `the size of \`boot.img' is not 512 (it is ${bootImg.length} bytes)`,
    );
  }
  if (coreSource instanceof Uint8Array) checkCoreImage(coreSource);
  const findOptions =
    options.checkLogical === undefined ? {} : { checkLogical: options.checkLogical };
  const area = await findEmbeddingArea(reader, findOptions);
  const coreImg = coreSource instanceof Uint8Array ? coreSource : await coreSource(area);
  checkCoreImage(coreImg);
  const rsCodes = options.rsCodes ?? true;
  const coreSectors = Math.ceil(coreImg.length / 512);
  const max = Math.min(rsCodes ? 2 * coreSectors : coreSectors, GRUB_LAYOUT.maxCoreSectors);
  const { sectors, skipped } = await chooseEmbeddingSectors(reader, area, coreSectors, max);
  const oldSector0 = await reader.read(0, 512);
  const core = layOutCore(coreImg, sectors, { rsCodes });
  const used = sectors.slice(0, core.length / 512);
  const { replacesEarlierCore, foreign } = await checkTargets(reader, oldSector0, area, used);
  if (foreign.length > 0 && !options.force) {
    const first = foreign[0] as number;
    throw new GrubInstallError(
      `the embedding area holds data that is not an earlier GRUB core: ${foreign.length} non-zero sector${foreign.length === 1 ? "" : "s"} where core.img would go (first: sector ${first}); nothing was written; check what uses it, or use --force to overwrite it`,
      first * 512,
    );
  }
  const sector0 = patchBootSector(bootImg, oldSector0, {
    kernelSector: used[0] as number,
    allowFloppy: options.allowFloppy ?? false,
  });
  const writes: ImageWrite[] = [];
  let i = 0;
  while (i < used.length) {
    let len = 1;
    while (i + len < used.length && used[i + len] === (used[i + len - 1] as number) + 1) len++;
    writes.push({
      offset: (used[i] as number) * 512,
      data: core.subarray(i * 512, (i + len) * 512),
    });
    i += len;
  }
  writes.push({ offset: 0, data: sector0 });
  return {
    area,
    sectors: used,
    skipped,
    coreSectors,
    redundancy: rsCodes ? core.length - coreImg.length : 0,
    sector0,
    writes,
    replacesEarlierCore,
    forcedSectors: options.force ? foreign : [],
  };
}

/**
 * Sectors about to be overwritten that are neither zero nor part of an earlier
 * GRUB core (the one sector 0's boot.img points at, or one starting at the
 * area's first sector, followed through its blocklists).
 */
async function checkTargets(
  reader: ByteReader,
  oldSector0: Uint8Array,
  area: EmbeddingArea,
  targets: number[],
): Promise<{ replacesEarlierCore: boolean; foreign: number[] }> {
  const earlier = new Set<number>();
  const candidates = new Set<number>([area.start]);
  if (isGrub2BootSector(oldSector0)) candidates.add(u64(oldSector0, GRUB_LAYOUT.kernelSector));
  for (const k of candidates) {
    if (k < area.start || k >= area.end) continue;
    const first = await reader.read(k * 512, 512);
    const lists = readBlocklists(first);
    if (lists.length === 0 || lists[0]?.segment !== GRUB_LAYOUT.firstSegment) continue;
    earlier.add(k);
    for (const list of lists) {
      for (let s = list.start; s < list.start + list.sectors && s < area.end; s++) earlier.add(s);
    }
  }
  const foreign: number[] = [];
  let touchedEarlier = false;
  for (const s of targets) {
    const bytes = await reader.read(s * 512, 512);
    if (bytes.every((b) => b === 0)) continue;
    if (earlier.has(s)) touchedEarlier = true;
    else foreign.push(s);
  }
  return { replacesEarlierCore: touchedEarlier, foreign };
}

/** Whether sector 0 holds GRUB 2's i386-pc boot.img (jump to 0x65 and its messages). */
export function isGrub2BootSector(sector0: Uint8Array): boolean {
  return sector0[0] === 0xeb && sector0[1] === 0x63 && indexOfText(sector0, "GRUB \0Geom\0") >= 0;
}

/** The offset of an ASCII string in `bytes`, or -1. */
export function indexOfText(bytes: Uint8Array, text: string): number {
  const needle = new TextEncoder().encode(text);
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
