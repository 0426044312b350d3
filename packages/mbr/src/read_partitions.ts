import { PartitionTableError } from "./errors.ts";
import { isEmptyEntry, type MbrEntry, parseMbr } from "./parse_mbr.ts";
import type { DiskTable, Partition, RawEntry } from "./partition_table.ts";
import { isExtendedType } from "./partition_types.ts";
import { type TableSource, toSectorReader } from "./sector_reader.ts";

/** Options for {@linkcode readPartitions}. */
export interface ReadPartitionsOptions {
  /** Bytes per sector. @default the device's, or 512 */
  sectorSize?: number;
  /** Most EBRs to follow before giving up. @default 1024 */
  maxLogical?: number;
  /**
   * Stop once partition `until` is known: primaries only for 1-4, the EBR
   * chain up to that logical partition for 5+ (for forward-only streams).
   * @default read everything
   */
  until?: number;
}

/**
 * Reads the DOS partition table of an image: sector 0 and the EBR chain of
 * every extended partition. Logical partitions are numbered from 5 in chain
 * order, as sfdisk and Linux number them. A protective MBR is returned with
 * `gpt: true` (its 0xEE entry as partition 1); {@linkcode validateTable}
 * reports it.
 *
 * Never loops and never reads outside the image: a chain that returns to an
 * EBR, leaves its extended partition or the disk, or an EBR without 0x55AA,
 * throws {@linkcode PartitionTableError} with the byte offset of the bad link.
 *
 * @param source A `BlockDevice`, the image's bytes, or a {@linkcode SectorReader}.
 * @returns Partitions (sorted by number), disk signature, boot code, disk size.
 *
 * @example Partition 1 of an image
 * ```ts
 * import assert from "node:assert/strict";
 * import { SliceDevice } from "@bigfile/blockdev";
 * import { FileDevice, writeToFile } from "@bigfile/blockdev/node";
 * import { planWrap, readPartitions, wrapPartition } from "@bigfile/mbr";
 * const plan = planWrap({ partitionSize: 8 << 20, align: "cylinder" });
 * await writeToFile(wrapPartition(ReadableStream.from([new Uint8Array(8 << 20)]), plan), "big.img");
 * const disk = await FileDevice.open("big.img", { readOnly: true });
 * const table = await readPartitions(disk);
 * const p1 = table.partitions.find((p) => p.number === 1);
 * assert.ok(p1);
 * const part = new SliceDevice(disk, { offset: p1.start * 512, length: p1.size * 512 });
 * assert.equal(part.size, 8 << 20);
 * await disk.close();
 * ```
 */
export async function readPartitions(
  source: TableSource,
  options: ReadPartitionsOptions = {},
): Promise<DiskTable> {
  const reader = toSectorReader(source, options.sectorSize);
  const ss = reader.sectorSize;
  const maxLogical = options.maxLogical ?? 1024;
  if (reader.size !== undefined && reader.size < 512) {
    throw new PartitionTableError(
      "short-sector",
      `Cannot parse partition table: the image holds ${reader.size} bytes, a sector needs 512`,
      reader.size,
    );
  }
  const mbr = parseMbr(await reader.readSector(0));
  const partitions: Partition[] = [];
  const extended: Partition[] = [];
  for (const e of mbr.entries) {
    if (isEmptyEntry(e)) continue;
    const p = entryToPartition(
      e,
      0,
      0,
      e.index + 1,
      isExtendedType(e.type) ? "extended" : "primary",
    );
    partitions.push(p);
    if (p.kind === "extended" && !mbr.protective) extended.push(p);
  }
  let number = 5;
  let followed = 0;
  const until = options.until ?? Number.POSITIVE_INFINITY;
  for (const ext of until <= 4 ? [] : extended) {
    if (number > until) break;
    const visited = new Set<number>();
    let ebr = ext.start;
    let linkOffset = (ext.raw as RawEntry).offset;
    for (;;) {
      if (visited.has(ebr)) {
        throw new PartitionTableError(
          "ebr-loop",
          `Cannot read logical partitions: the EBR chain loops back to sector ${ebr}`,
          linkOffset,
        );
      }
      if (
        ebr < ext.start ||
        ebr >= ext.start + ext.size ||
        (reader.size !== undefined && (ebr + 1) * ss > reader.size)
      ) {
        throw new PartitionTableError(
          "ebr-outside",
          `Cannot read logical partitions: an EBR link points to sector ${ebr}, outside extended partition ${ext.number} (sectors ${ext.start}..${ext.start + ext.size - 1}${reader.size !== undefined ? ` of a ${Math.floor(reader.size / ss)}-sector disk` : ""})`,
          linkOffset,
        );
      }
      if (++followed > maxLogical) {
        throw new PartitionTableError(
          "ebr-too-many",
          `Cannot read logical partitions: more than ${maxLogical} EBRs in the chain`,
          linkOffset,
        );
      }
      visited.add(ebr);
      const sector = parseMbr(await reader.readSector(ebr), {
        baseOffset: ebr * ss,
        what: `the EBR at sector ${ebr}`,
      });
      let link: MbrEntry | undefined;
      for (const e of sector.entries) {
        if (isEmptyEntry(e)) continue;
        if (isExtendedType(e.type)) {
          link ??= e;
          continue;
        }
        partitions.push(entryToPartition(e, ebr, ebr * ss, number++, "logical"));
      }
      if (!link || number > until) break;
      linkOffset = ebr * ss + link.offset;
      ebr = ext.start + link.start;
    }
  }
  return {
    labelId: mbr.labelId,
    sectorSize: ss,
    partitions,
    diskSize: reader.size,
    bootCode: mbr.bootCode,
    gpt: mbr.protective,
  };
}

function entryToPartition(
  e: MbrEntry,
  base: number,
  sectorOffset: number,
  number: number,
  kind: Partition["kind"],
): Partition {
  const p: Partition = {
    number,
    kind,
    start: base + e.start,
    size: e.size,
    type: e.type,
    bootable: e.status === 0x80,
    raw: {
      offset: sectorOffset + e.offset,
      status: e.status,
      chsStart: e.chsStart,
      chsEnd: e.chsEnd,
      relativeStart: e.start,
    },
  };
  if (kind === "logical") p.ebr = base;
  return p;
}
