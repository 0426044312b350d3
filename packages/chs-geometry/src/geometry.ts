/** Heads fdisk assumes for a disk that reports no geometry. */
export const DEFAULT_HEADS = 255;
/** Sectors per track fdisk assumes for a disk that reports no geometry. */
export const DEFAULT_SECTORS_PER_TRACK = 63;
/** Bytes per sector of a disk image. */
export const DEFAULT_SECTOR_SIZE = 512;

/** A cylinder/head/sector geometry: the three numbers every CHS computation needs. */
export interface Geometry {
  /** Heads (tracks per cylinder), 1..255 in an MBR. @default 255 */
  heads: number;
  /** Sectors per track, 1..63 in an MBR. @default 63 */
  sectorsPerTrack: number;
  /** Bytes per sector. @default 512 */
  sectorSize: number;
}

/** Options for {@linkcode geometryOf}: any of the three numbers, the rest default as fdisk's. */
export type GeometryOptions = Partial<Geometry>;

/** The geometry of a disk of a given size, with everything fdisk derives from it. */
export interface DiskGeometry extends Geometry {
  /** The disk size in bytes. */
  bytes: number;
  /** Whole sectors on the disk (`floor(bytes / sectorSize)`). */
  totalSectors: number;
  /** Sectors in one cylinder (`heads * sectorsPerTrack`). */
  cylinderSectors: number;
  /** Whole cylinders on the disk (the partial last one does not count). */
  cylinders: number;
  /** Bytes in one cylinder. */
  cylinderBytes: number;
  /** Bytes in one track: the gap a cylinder-aligned first partition leaves for the table. */
  trackBytes: number;
  /** Bytes in whole cylinders: what cylinder-aligned partitions can use. */
  usableBytes: number;
  /** Bytes of the partial last cylinder, lost to cylinder alignment. */
  lostBytes: number;
}

/**
 * Checks and completes a geometry: defaults 255 heads, 63 sectors per track,
 * 512-byte sectors. Throws `RangeError` for numbers no geometry can have.
 *
 * @example Usage
 * ```ts
 * import { normalizeGeometry } from "@bigfile/chs-geometry";
 * normalizeGeometry({ heads: 16 }); // { heads: 16, sectorsPerTrack: 63, sectorSize: 512 }
 * ```
 */
export function normalizeGeometry(options: GeometryOptions = {}): Geometry {
  const heads = options.heads ?? DEFAULT_HEADS;
  const sectorsPerTrack = options.sectorsPerTrack ?? DEFAULT_SECTORS_PER_TRACK;
  const sectorSize = options.sectorSize ?? DEFAULT_SECTOR_SIZE;
  if (!Number.isInteger(heads) || heads < 1 || heads > 256) {
    throw new RangeError(`Cannot use ${heads} heads: expected an integer from 1 to 256`);
  }
  if (!Number.isInteger(sectorsPerTrack) || sectorsPerTrack < 1 || sectorsPerTrack > 63) {
    throw new RangeError(
      `Cannot use ${sectorsPerTrack} sectors per track: expected an integer from 1 to 63`,
    );
  }
  if (!Number.isInteger(sectorSize) || sectorSize < 128 || (sectorSize & (sectorSize - 1)) !== 0) {
    throw new RangeError(
      `Cannot use a sector size of ${sectorSize}: expected a power of two of at least 128`,
    );
  }
  return { heads, sectorsPerTrack, sectorSize };
}

/**
 * The geometry fdisk gives a disk of `bytes` bytes: 255 heads, 63 sectors per
 * track, whole cylinders only (floor), and the bytes lost to the partial last
 * cylinder.
 *
 * @param bytes The disk size in bytes.
 * @param options Heads, sectors per track and sector size, defaulting as fdisk's.
 * @returns The geometry with cylinders, cylinder/track bytes, usable and lost bytes.
 *
 * @example The seed's big file
 * ```ts
 * import { geometryOf } from "@bigfile/chs-geometry";
 * const g = geometryOf(4141875200);
 * g.cylinders; // 503
 * g.cylinderBytes; // 8225280
 * g.usableBytes; // 4137315840
 * g.lostBytes; // 4559360
 * g.trackBytes; // 32256
 * ```
 */
export function geometryOf(bytes: number, options: GeometryOptions = {}): DiskGeometry {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError(
      `Cannot compute the geometry of ${bytes} bytes: expected a non-negative integer`,
    );
  }
  const g = normalizeGeometry(options);
  const cylinderSectors = g.heads * g.sectorsPerTrack;
  const cylinderBytes = cylinderSectors * g.sectorSize;
  const cylinders = Math.floor(bytes / cylinderBytes);
  const usableBytes = cylinders * cylinderBytes;
  return {
    bytes,
    ...g,
    totalSectors: Math.floor(bytes / g.sectorSize),
    cylinderSectors,
    cylinders,
    cylinderBytes,
    trackBytes: g.sectorsPerTrack * g.sectorSize,
    usableBytes,
    lostBytes: bytes - usableBytes,
  };
}
