import { setU16, setU32, setU64, u16, u32, u64 } from "./_reader.ts";
import { GrubInstallError } from "./grub_install_error.ts";
import { addReedSolomon } from "./reed_solomon.ts";

/**
 * Offsets of GRUB 2 i386-pc's boot.img (sector 0) and core.img, as documented
 * by GRUB and observed in Debian's grub-pc-bin 2.06 images.
 */
export const GRUB_LAYOUT = {
  sectorSize: 512,
  /** boot.img: the BIOS parameter block range kept from the disk, [start, end). */
  bpbStart: 0x03,
  bpbEnd: 0x5a,
  /** boot.img: u64 LBA of core.img's first sector. */
  kernelSector: 0x5c,
  /** boot.img: the boot drive (0xFF: the one the BIOS booted from). */
  bootDrive: 0x64,
  /** boot.img: the 2-byte jump over the drive check; NOPs on hard disks. */
  driveCheck: 0x66,
  /** boot.img: disk signature, partition table, kept from the disk, [start, end). */
  tableStart: 0x1b8,
  tableEnd: 0x1fe,
  /** core.img sector 0 (diskboot.img): the first 12-byte blocklist slot; further slots grow down. */
  firstBlocklist: 0x1f4,
  blocklistSize: 12,
  /** The segment the second core sector is loaded at; +0x20 per sector. */
  firstSegment: 0x820,
  /** core.img, from its second sector: u32 Reed-Solomon redundancy bytes. */
  redundancyField: 0x200 + 0x10,
  /** core.img, from its second sector: u16 bytes not protected by Reed-Solomon. */
  noRsLengthField: 0x200 + 0x14,
  /** The most sectors core.img (with its parity) may take: (0x78000 - 0x9000) / 512. */
  maxCoreSectors: 888,
} as const;

const L = GRUB_LAYOUT;

/** Options for {@linkcode patchBootSector}. */
export interface PatchBootSectorOptions {
  /** LBA of core.img's first sector. */
  kernelSector: number;
  /** Keep the floppy drive check (GRUB's --allow-floppy). @default false */
  allowFloppy?: boolean;
}

/**
 * The new sector 0: boot.img with the disk's own BPB range (0x03-0x59) and
 * disk signature + partition table (0x1B8-0x1FD), the kernel sector at 0x5C,
 * boot drive 0xFF at 0x64 and, unless `allowFloppy`, NOPs over the drive
 * check jump at 0x66.
 *
 * @example Usage
 * ```ts
 * import { patchBootSector } from "@bigfile/grub-mbr";
 * const mbr = patchBootSector(new Uint8Array(512), new Uint8Array(512), { kernelSector: 1 });
 * ```
 */
export function patchBootSector(
  bootImg: Uint8Array,
  oldSector0: Uint8Array,
  options: PatchBootSectorOptions,
): Uint8Array {
  if (bootImg.length !== 512)
    throw new GrubInstallError(
      `the size of \`boot.img' is not 512 (it is ${bootImg.length} bytes)`,
    );
  if (oldSector0.length < 512)
    throw new RangeError(`Cannot patch sector 0: got ${oldSector0.length} bytes`);
  const out = bootImg.slice();
  out.set(oldSector0.subarray(L.bpbStart, L.bpbEnd), L.bpbStart);
  out.set(oldSector0.subarray(L.tableStart, L.tableEnd), L.tableStart);
  setU64(out, L.kernelSector, options.kernelSector);
  out[L.bootDrive] = 0xff;
  if (!options.allowFloppy) {
    out[L.driveCheck] = 0x90;
    out[L.driveCheck + 1] = 0x90;
  }
  return out;
}

/** Options for {@linkcode layOutCore}. */
export interface LayOutCoreOptions {
  /** Add Reed-Solomon parity in the sectors after core.img. @default true */
  rsCodes?: boolean;
}

/**
 * core.img as it goes to disk in `sectors` (one per 512 bytes, the first being
 * the kernel sector): the blocklists in its first sector describe where the
 * others are; the rest of the last sector is zero; with `rsCodes`, every sector
 * after core.img holds Reed-Solomon parity and the redundancy field says how much.
 */
export function layOutCore(
  coreImg: Uint8Array,
  sectors: readonly number[],
  options: LayOutCoreOptions = {},
): Uint8Array {
  const coreSectors = Math.ceil(coreImg.length / 512);
  checkCoreImage(coreImg);
  if (sectors.length < coreSectors) {
    throw new RangeError(
      `Cannot lay out core.img: it needs ${coreSectors} sectors, got ${sectors.length}`,
    );
  }
  const rs = options.rsCodes ?? true;
  const n = rs ? sectors.length : coreSectors;
  const out = new Uint8Array(n * 512);
  out.set(coreImg);
  // Blocklists: contiguous runs of sectors[1..n), slots growing down from 0x1F4.
  let slot = L.firstBlocklist;
  let segment = L.firstSegment;
  let i = 1;
  while (i < n) {
    let len = 1;
    while (i + len < n && sectors[i + len] === (sectors[i + len - 1] as number) + 1 && len < 0xffff)
      len++;
    if (slot !== L.firstBlocklist && !isZeroRange(coreImg, slot, slot + L.blocklistSize)) {
      throw new GrubInstallError(
        `the sectors of the core file are too fragmented (${countRuns(sectors.slice(0, n))} runs do not fit in core.img's first sector)`,
      );
    }
    setU64(out, slot, sectors[i] as number);
    setU16(out, slot + 8, len);
    setU16(out, slot + 10, segment);
    segment += len << 5;
    slot -= L.blocklistSize;
    i += len;
  }
  if (slot >= 0 && slot < L.firstBlocklist) {
    if (!isZeroRange(coreImg, slot, slot + L.blocklistSize)) {
      throw new GrubInstallError(
        `the sectors of the core file are too fragmented (no room for the blocklist terminator)`,
      );
    }
  }
  if (rs) {
    const redundancy = n * 512 - coreImg.length;
    setU32(out, L.redundancyField, redundancy);
    const noRs = u16(coreImg, L.noRsLengthField);
    const start = 512 + noRs;
    addReedSolomon(out, start, coreImg.length - start, redundancy);
  }
  return out;
}

/** Throws unless `coreImg` looks like a GRUB i386-pc core.img of a usable size. */
export function checkCoreImage(coreImg: Uint8Array): void {
  if (coreImg.length < 1024) {
    throw new GrubInstallError(
      `the size of \`core.img' is too small (${coreImg.length} bytes; an i386-pc core.img is at least 2 sectors)`,
    );
  }
  const sectors = Math.ceil(coreImg.length / 512);
  if (sectors > L.maxCoreSectors) {
    throw new GrubInstallError(
      `the size of \`core.img' is too large (${sectors} sectors; at most ${L.maxCoreSectors})`,
    );
  }
  const noRs = u16(coreImg, L.noRsLengthField);
  if (512 + noRs > coreImg.length) {
    throw new GrubInstallError(
      `core.img is not a GRUB i386-pc core image: its unprotected length ${noRs} exceeds its size`,
    );
  }
}

/** The blocklist slots of a core.img first sector (diskboot.img), up to the terminator. */
export function readBlocklists(
  sector: Uint8Array,
): { start: number; sectors: number; segment: number }[] {
  const out: { start: number; sectors: number; segment: number }[] = [];
  for (let slot = L.firstBlocklist; slot >= 0x100 && out.length < 32; slot -= L.blocklistSize) {
    const len = u16(sector, slot + 8);
    if (len === 0) break;
    out.push({ start: u64(sector, slot), sectors: len, segment: u16(sector, slot + 10) });
  }
  return out;
}

/** The Reed-Solomon fields of a core.img as it lies on disk. */
export function coreRedundancy(core: Uint8Array): { redundancy: number; noRsLength: number } {
  return { redundancy: u32(core, L.redundancyField), noRsLength: u16(core, L.noRsLengthField) };
}

function isZeroRange(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

function countRuns(sectors: readonly number[]): number {
  let runs = 0;
  for (let i = 1; i < sectors.length; i++)
    if (i === 1 || sectors[i] !== (sectors[i - 1] as number) + 1) runs++;
  return runs;
}
