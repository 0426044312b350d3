import type { BlockDevice } from "@bigfile/blockdev";
import { PartitionTableError } from "./errors.ts";

/**
 * What the table readers need from an image: its size (when known) and whole
 * sectors by LBA. {@linkcode toSectorReader} makes one from a `BlockDevice` or
 * bytes; {@linkcode StreamSectorReader} from a forward-only stream.
 */
export interface SectorReader {
  /** Image size in bytes, when known. */
  readonly size: number | undefined;
  /** Bytes per sector. */
  readonly sectorSize: number;
  /** The sector at `lba`; throws {@linkcode PartitionTableError} when it is not in the image. */
  readSector(lba: number): Promise<Uint8Array>;
}

/** A `BlockDevice`, the bytes of an image, or a ready {@linkcode SectorReader}. */
export type TableSource = BlockDevice | Uint8Array | SectorReader;

function isSectorReader(source: TableSource): source is SectorReader {
  return typeof (source as SectorReader).readSector === "function";
}

/** Adapts a `BlockDevice` or bytes to a {@linkcode SectorReader}. */
export function toSectorReader(source: TableSource, sectorSize?: number): SectorReader {
  if (isSectorReader(source)) return source;
  if (source instanceof Uint8Array) {
    const bytes = source;
    const ss = sectorSize ?? 512;
    return {
      size: bytes.length,
      sectorSize: ss,
      readSector(lba) {
        const offset = lba * ss;
        if (offset + ss > bytes.length) throw outside(lba, ss, bytes.length);
        return Promise.resolve(bytes.subarray(offset, offset + ss));
      },
    };
  }
  const device = source;
  const ss = sectorSize ?? device.sectorSize;
  return {
    size: device.size,
    sectorSize: ss,
    readSector(lba) {
      const offset = lba * ss;
      if (offset + ss > device.size) return Promise.reject(outside(lba, ss, device.size));
      return device.read(offset, ss);
    },
  };
}

function outside(lba: number, sectorSize: number, size: number): PartitionTableError {
  return new PartitionTableError(
    "ebr-outside",
    `Cannot read sector ${lba}: the image holds ${Math.floor(size / sectorSize)} sectors`,
    lba * sectorSize,
  );
}
