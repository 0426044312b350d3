/** What both writers of mkfs share: identity, size and label choices. */
import { createHash } from "node:crypto";
import { parseUuid } from "../format/_bytes.ts";
import {
  computeGeometry,
  defaultBlockSize,
  type Geometry,
  GeometryError,
  type GeometryOptions,
  groupHasSuper,
} from "./geometry.ts";
import type { MkfsOptions } from "./mkfs.ts";

/** SHA-256, synchronous (WebCrypto's digest waits a thread-pool round trip). */
function digest(text: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(text).digest());
}

function v4(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice(0, 16);
  out[6] = ((out[6] as number) & 0x0f) | 0x40;
  out[8] = ((out[8] as number) & 0x3f) | 0x80;
  return out;
}

export function formatUuidText(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The UUID and hash seed: derived from the seed (or SOURCE_DATE_EPOCH), else random. */
export function identity(options: MkfsOptions): {
  uuid: Uint8Array;
  hashSeed: Uint8Array;
  seedWords: Uint32Array;
} {
  const sde = options.sourceDateEpoch;
  const seedText = options.seed ?? (sde !== undefined ? `SOURCE_DATE_EPOCH=${sde}` : undefined);
  const uuid = options.uuid
    ? parseUuid(options.uuid)
    : v4(
        seedText !== undefined
          ? digest(`ext3fs uuid\0${seedText}`)
          : crypto.getRandomValues(new Uint8Array(16)),
      );
  const hashSeed = v4(
    seedText !== undefined
      ? digest(`ext3fs hash seed\0${seedText}`)
      : crypto.getRandomValues(new Uint8Array(16)),
  );
  const seedView = new DataView(hashSeed.buffer, hashSeed.byteOffset, 16);
  const seedWords = new Uint32Array(4);
  for (let i = 0; i < 4; i++) seedWords[i] = seedView.getUint32(i * 4, true);
  return { uuid, hashSeed, seedWords };
}

/** The label's bytes, checked. */
export function labelBytes(options: MkfsOptions): Uint8Array {
  const label = new TextEncoder().encode(options.label ?? "");
  if (label.length > 16)
    throw new RangeError(
      `Cannot use label ${JSON.stringify(options.label)}: ${label.length} bytes, at most 16`,
    );
  return label;
}

/**
 * The geometry: the size given, or (without one) the smallest that fits what
 * `measure` says the tree needs at a block size.
 */
export function chooseGeometry(
  options: MkfsOptions,
  journal: boolean,
  log: (message: string) => void,
  measure: (blockSize: number) => { blocks: number; inodes: number },
): { geo: Geometry; autoSized: boolean } {
  const geoOptions = (bytes: number, inodes?: number): GeometryOptions => {
    const o: GeometryOptions = { bytes, journal };
    if (options.blockSize !== undefined) o.blockSize = options.blockSize;
    if (options.inodeSize !== undefined) o.inodeSize = options.inodeSize;
    if (options.bytesPerInode !== undefined) o.inodeRatio = options.bytesPerInode;
    const n = options.inodes ?? inodes;
    if (n !== undefined) o.inodes = n;
    if (options.reservedPercent !== undefined) o.reservedPercent = options.reservedPercent;
    return o;
  };
  if (options.size !== undefined || options.blocks !== undefined) {
    const bytes = options.size ?? (options.blocks as number) * (options.blockSize ?? 1024);
    return { geo: computeGeometry(geoOptions(bytes)), autoSized: false };
  }
  return { geo: autoSize(measure, geoOptions, options, log), autoSized: true };
}

/**
 * The smallest geometry that holds what `measure` says a tree needs at a
 * block size, plus about 10%.
 */
function autoSize(
  measure: (blockSize: number) => { blocks: number; inodes: number },
  geoOptions: (bytes: number, inodes?: number) => GeometryOptions,
  options: MkfsOptions,
  log: (message: string) => void,
): Geometry {
  const MiB = 1024 * 1024;
  let bs = options.blockSize ?? 1024;
  let need = measure(bs);
  const free = options.freeBytes;
  let bytes = Math.max(MiB, Math.ceil(((need.blocks * bs + (free ?? 0)) * 1.2) / MiB) * MiB);
  for (let i = 0; i < 200; i++) {
    const wantBs = options.blockSize ?? defaultBlockSize(bytes);
    if (wantBs !== bs) {
      bs = wantBs;
      need = measure(bs);
    }
    const wantInodes = Math.ceil(need.inodes * 1.1) + 16 + 10;
    let geo: Geometry;
    try {
      geo = computeGeometry(geoOptions(bytes));
      if (
        options.inodes === undefined &&
        options.bytesPerInode === undefined &&
        geo.inodesCount < wantInodes
      ) {
        geo = computeGeometry(geoOptions(bytes, wantInodes));
      }
    } catch (error) {
      if (!(error instanceof GeometryError)) throw error;
      bytes = Math.ceil((bytes * 1.25) / MiB) * MiB;
      continue;
    }
    let data = 0;
    for (let g = 0; g < geo.groupCount; g++) {
      const start = geo.firstDataBlock + g * geo.blocksPerGroup;
      const end = Math.min(start + geo.blocksPerGroup, geo.blocksCount);
      data += end - start - 2 - geo.inodeTableBlocks;
    }
    data -= geo.descBlocks + geo.reservedGdtBlocks; // a lower bound on backups is enough for the estimate below
    let backups = 0;
    for (let g = 0; g < geo.groupCount; g++) if (groupHasSuper(g)) backups++;
    data -= (backups - 1) * (1 + geo.descBlocks + geo.reservedGdtBlocks) + 1;
    const journalAll = geo.journalBlocks + Math.ceil(geo.journalBlocks / geo.addrPerBlock) + 2;
    // About 10% of the tree free, or what the caller asked for.
    const headroom =
      free !== undefined
        ? Math.ceil(free / bs)
        : Math.max(Math.ceil(need.blocks * 0.1), Math.ceil(MiB / bs));
    const fits =
      data - journalAll - 1 >= need.blocks + headroom && geo.inodesCount - 10 >= need.inodes;
    if (fits) {
      log(
        `Sized the filesystem to fit: the tree needs ${need.blocks} blocks of ${bs} bytes and ${need.inodes} inodes; ` +
          `${geo.blocksCount} blocks (${geo.blocksCount * bs} bytes) with ${geo.inodesCount} inodes leave ${free !== undefined ? `at least ${free} bytes` : "about 10%"} free (give --size or --blocks to choose)`,
      );
      return geo;
    }
    bytes = Math.ceil((bytes * 1.1) / MiB) * MiB;
  }
  throw new RangeError("Cannot find a filesystem size that fits the tree");
}
