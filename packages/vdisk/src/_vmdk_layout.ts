// What writeVmdk and SparseVmdkPlacement share: where a sparse extent's
// metadata goes, in 512-byte sectors, and the grain directory that points at
// its preallocated grain tables.
import { alignUp, viewOf } from "./_bytes.ts";
import {
  buildHeader,
  DESCRIPTOR_SECTORS,
  FLAG_COMPRESSED,
  FLAG_MARKERS,
  FLAG_NEWLINE_TEST,
  GRAIN_SECTORS,
  GTES_PER_GT,
  type HeaderFields,
} from "./_vmdk_format.ts";

/** Where the parts of a sparse extent go, in sectors. */
export interface VmdkExtentLayout {
  /** The disk's size in sectors. */
  capacity: number;
  grainTables: number;
  gtSectors: number;
  gdSectors: number;
  /** The grain directory, after the header and the embedded descriptor. */
  gdOffset: number;
  /** The grain tables of a monolithicSparse extent, one after the other after the directory. */
  gtsOffset: number;
  /** Sectors before a monolithicSparse extent's first grain: the metadata, rounded up to a grain. */
  sparseOverhead: number;
}

/** The layout of a sparse extent for a disk of `size` bytes (rounded up to sectors). */
export function vmdkExtentLayout(size: number): VmdkExtentLayout {
  const capacity = Math.ceil(size / 512);
  if (capacity === 0) {
    throw new RangeError("Cannot write a VMDK of 0 bytes: VMware and QEMU refuse an empty extent");
  }
  const grainTables = Math.ceil(capacity / (GTES_PER_GT * GRAIN_SECTORS));
  const gdSectors = Math.ceil((grainTables * 4) / 512);
  const gtSectors = (GTES_PER_GT * 4) / 512;
  const gdOffset = 1 + DESCRIPTOR_SECTORS;
  const gtsOffset = gdOffset + gdSectors;
  const sparseOverhead = alignUp(gtsOffset + grainTables * gtSectors, GRAIN_SECTORS);
  return { capacity, grainTables, gtSectors, gdSectors, gdOffset, gtsOffset, sparseOverhead };
}

/** The header fields of a monolithicSparse or (`stream`) streamOptimized extent, less the directory's offset. */
export function vmdkHeaderFields(
  layout: VmdkExtentLayout,
  stream: boolean,
): Omit<HeaderFields, "gdOffset"> {
  return {
    version: stream ? 3 : 1,
    flags: stream ? FLAG_NEWLINE_TEST | FLAG_COMPRESSED | FLAG_MARKERS : FLAG_NEWLINE_TEST,
    capacity: layout.capacity,
    descriptorSectors: DESCRIPTOR_SECTORS,
    overhead: stream ? GRAIN_SECTORS : layout.sparseOverhead,
    compress: stream,
  };
}

/** A monolithicSparse extent's header: the directory at its place after the descriptor. */
export function sparseVmdkHeader(layout: VmdkExtentLayout): Uint8Array {
  return buildHeader({ ...vmdkHeaderFields(layout, false), gdOffset: BigInt(layout.gdOffset) });
}

/** A monolithicSparse extent's grain directory: every grain table in its preallocated place. */
export function sparseGrainDirectory(layout: VmdkExtentLayout): Uint8Array {
  const gd = new Uint8Array(layout.gdSectors * 512);
  const view = viewOf(gd);
  for (let i = 0; i < layout.grainTables; i++) {
    view.setUint32(i * 4, layout.gtsOffset + i * layout.gtSectors, true);
  }
  return gd;
}
