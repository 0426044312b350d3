/**
 * mkfs's options resolved in one place for both writers and the CLI:
 * defaults, checks (before any source is read), the feature set, the
 * filesystem's identity (UUID, hash seed, label), its clock, and the
 * geometry (the size given, or the smallest that fits).
 */
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { parseUuid } from "../format/_bytes.ts";
import { FeatureCompat, FeatureIncompat, FeatureRoCompat } from "../format/constants.ts";
import type { SourceOwnership } from "./_dir_source_file.ts";
import {
  editFeatures,
  type FeatureSet,
  type FsType,
  featureText,
  typeFeatures,
} from "./_mkfs_features.ts";
import type { Timestamp } from "./_tree.ts";
import { ExtGeometryError, ExtOptionError } from "./errors.ts";
import {
  computeGeometry,
  defaultBlockSize,
  type Geometry,
  type GeometryOptions,
  groupHasSuper,
} from "./geometry.ts";
import type { MkfsOptions } from "./mkfs.ts";

/**
 * Entries past which mkfs walks instead of keeping the tree: just above the
 * seed's filesystem's 252,960 inodes, which the tree holds in about 170 MB.
 */
export const WALK_ABOVE_ENTRIES = 262_144;

/** The defaults of {@linkcode MkfsOptions} that the CLI shows in its help. */
export const MKFS_DEFAULTS = {
  type: "ext3",
  writer: "auto",
  walkAbove: WALK_ABOVE_ENTRIES,
} as const satisfies MkfsOptions;

export { type FeatureSet, type FsType, typeFeatures } from "./_mkfs_features.ts";

/** {@linkcode MkfsOptions} with every default filled in and every check made: what both writers work from. */
export interface ResolvedMkfsOptions {
  /** The options as given (sizes and inode counts are read from them with the geometry). */
  given: MkfsOptions;
  type: FsType;
  /** A journal is wanted (a filesystem too small for one gets none). */
  journal: boolean;
  /** The features wanted: the type's ({@linkcode typeFeatures}) with `features` edits applied. */
  features: FeatureSet;
  /** How the features shape what is written. */
  format: WriteFormat;
  writer: "auto" | "tree" | "walk";
  walkAbove: number;
  tempDir: string;
  log: (message: string) => void;
  /** The clock, read once. */
  nowSeconds: number;
  /**
   * Time of the objects mkfs creates: SOURCE_DATE_EPOCH, else now; set to the
   * sources' newest mtime when {@linkcode createTimeFromSources}.
   */
  createTime: Timestamp;
  /** Only a seed makes the output reproducible: created objects take the sources' newest mtime. */
  createTimeFromSources: boolean;
  /** How sources' owners and times are taken. */
  own: SourceOwnership;
  uuid: Uint8Array;
  /** The hash seed as bytes (the superblock) and as words (the htree hash). */
  hashSeed: Uint8Array;
  seedWords: Uint32Array;
  label: Uint8Array;
}

const TYPES = ["ext3", "ext2", "ext4"] as const;
const WRITERS = ["auto", "tree", "walk"] as const;

/**
 * Checks options that do not depend on the sources (names, ranges,
 * combinations, label, UUID): throws an {@linkcode ExtOptionError}. The
 * geometry's own limits (block and inode sizes, counts) are checked when it
 * is computed.
 */
export function checkMkfsOptions(options: MkfsOptions): void {
  const { type, writer, size, blocks, freeBytes } = options;
  if (type !== undefined && !TYPES.includes(type))
    throw new ExtOptionError("type", "ext2, ext3 or ext4", String(type));
  if (options.features !== undefined) {
    const text = options.features;
    if (
      typeof text !== "string" &&
      !(Array.isArray(text) && text.every((f) => typeof f === "string"))
    )
      throw new ExtOptionError(
        "features",
        "mke2fs -O text (e.g. ^metadata_csum,^64bit)",
        String(text),
      );
  }
  resolveFeatures(options);
  if (writer !== undefined && !WRITERS.includes(writer))
    throw new ExtOptionError("writer", "auto, tree or walk", String(writer));
  if (size !== undefined && blocks !== undefined)
    throw new ExtOptionError("size", "", `${size}`, "blocks");
  if (freeBytes !== undefined && size !== undefined)
    throw new ExtOptionError("freeBytes", "", `${freeBytes}`, "size");
  if (freeBytes !== undefined && blocks !== undefined)
    throw new ExtOptionError("freeBytes", "", `${freeBytes}`, "blocks");
  const m = options.reservedPercent;
  if (m !== undefined && !(Number.isFinite(m) && m >= 0 && m <= 50))
    throw new ExtOptionError("reservedPercent", "a percentage from 0 to 50", `${m}`);
  labelBytes(options);
  if (options.uuid !== undefined) {
    try {
      parseUuid(options.uuid);
    } catch {
      throw new ExtOptionError("uuid", "a UUID (32 hex digits)", JSON.stringify(options.uuid));
    }
  }
}

/**
 * Resolves mkfs's options: checks them ({@linkcode checkMkfsOptions}), fills
 * in the defaults, reads the clock, and derives the identity.
 */
export function resolveMkfsOptions(options: MkfsOptions): ResolvedMkfsOptions {
  checkMkfsOptions(options);
  const type = options.type ?? MKFS_DEFAULTS.type;
  const features = resolveFeatures(options);
  const sde = options.sourceDateEpoch;
  const nowSeconds = Math.floor(Date.now() / 1000);
  const createTime: Timestamp = { seconds: sde ?? nowSeconds, nanoseconds: 0 };
  const own: SourceOwnership = {
    createTime,
    mtimeOnly: options.seed !== undefined || sde !== undefined,
  };
  if (sde !== undefined) own.clampTime = sde;
  if (options.squashOwners) own.squashOwners = true;
  if ((features.compat & FeatureCompat.EXT_ATTR) === 0) own.xattrs = false;
  if (options.log) own.note = options.log;
  return {
    given: options,
    type,
    journal: (features.compat & FeatureCompat.HAS_JOURNAL) !== 0,
    features,
    format: writeFormat(features),
    writer: options.writer ?? MKFS_DEFAULTS.writer,
    walkAbove: options.walkAbove ?? MKFS_DEFAULTS.walkAbove,
    tempDir: options.tempDir ?? tmpdir(),
    log: options.log ?? (() => {}),
    nowSeconds,
    createTime,
    createTimeFromSources: options.seed !== undefined && sde === undefined,
    own,
    ...identity(options),
    label: labelBytes(options),
  };
}

/** The type's features with the `features` edits applied and checked. */
function resolveFeatures(options: MkfsOptions): FeatureSet {
  const base = typeFeatures(options.type ?? MKFS_DEFAULTS.type);
  const edits = options.features;
  if (edits === undefined || featureText(edits).trim() === "") return base;
  return editFeatures(base, edits);
}

/** How a feature set shapes the bytes: what the allocator and the writers look at. */
export interface WriteFormat {
  /** Files, directories and the journal mapped by extents (extent). */
  extents: boolean;
  /** Groups per flex group (flex_bg: 16, as mke2fs), 0 without. */
  flexBgSize: number;
  /** Group descriptor size: 64 with 64bit. */
  descSize: 32 | 64;
  /** CRC-32C checksums of the metadata (metadata_csum). */
  metadataCsum: boolean;
  /** Directories past 65000 links count 1 (dir_nlink). */
  dirNlink: boolean;
  /** Hash-indexed directories (dir_index). */
  dirIndex: boolean;
  /** The resize inode (resize_inode). */
  resizeInode: boolean;
}

/** The {@linkcode WriteFormat} of a feature set. */
export function writeFormat(features: FeatureSet): WriteFormat {
  return {
    extents: (features.incompat & FeatureIncompat.EXTENTS) !== 0,
    flexBgSize: features.incompat & FeatureIncompat.FLEX_BG ? 16 : 0,
    descSize: features.incompat & FeatureIncompat.BIT64 ? 64 : 32,
    metadataCsum: (features.roCompat & FeatureRoCompat.METADATA_CSUM) !== 0,
    dirNlink: (features.roCompat & FeatureRoCompat.DIR_NLINK) !== 0,
    dirIndex: (features.compat & FeatureCompat.DIR_INDEX) !== 0,
    resizeInode: (features.compat & FeatureCompat.RESIZE_INODE) !== 0,
  };
}

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
function identity(options: MkfsOptions): {
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
function labelBytes(options: MkfsOptions): Uint8Array {
  const label = new TextEncoder().encode(options.label ?? "");
  if (label.length > 16)
    throw new ExtOptionError(
      "label",
      "at most 16 bytes",
      `${JSON.stringify(options.label)} (${label.length} bytes)`,
    );
  return label;
}

/**
 * The geometry: the size given, or (without one) the smallest that fits what
 * `measure` says the tree needs at a block size.
 */
export function chooseGeometry(
  resolved: ResolvedMkfsOptions,
  measure: (blockSize: number) => { blocks: number; inodes: number },
): { geo: Geometry; autoSized: boolean } {
  const { given: options, journal, log, format } = resolved;
  const geoOptions = (bytes: number, inodes?: number): GeometryOptions => {
    const o: GeometryOptions = {
      bytes,
      journal,
      resizeInode: format.resizeInode,
      descSize: format.descSize,
      flexBgSize: format.flexBgSize,
    };
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
      if (!(error instanceof ExtGeometryError)) throw error;
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
