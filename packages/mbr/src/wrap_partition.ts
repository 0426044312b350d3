import { zeroChunks } from "@bigfile/blockdev";
import { type GeometryOptions, normalizeGeometry } from "@bigfile/chs-geometry";
import { encodeTable } from "./encode_table.ts";
import { PartitionLayoutError } from "./errors.ts";
import type { PartitionTable } from "./partition_table.ts";
import { type Alignment, alignmentRules } from "./plan_layout.ts";

/** Options for {@linkcode planWrap} and {@linkcode wrapPartition}. */
export interface WrapOptions {
  /** Size of the partition image in bytes; without it, the partition fills `diskSize`. */
  partitionSize?: number;
  /** Size of the disk in bytes. @default the smallest disk that fits the alignment */
  diskSize?: number;
  /** @default "mib" */
  align?: Alignment;
  /** Partition type byte. @default 0x83 */
  type?: number;
  /** Mark partition 1 bootable. @default false */
  bootable?: boolean;
  /** Disk signature. @default 0 */
  labelId?: number;
  /** @default 255/63/512 */
  geometry?: GeometryOptions;
}

/** Where {@linkcode planWrap} puts things. */
export interface WrapPlan {
  table: PartitionTable;
  /** Disk size in bytes. */
  diskSize: number;
  /** Byte offset of the partition. */
  partitionOffset: number;
  /** Length of the partition in bytes (whole sectors). */
  partitionLength: number;
}

/**
 * Plans a disk around one partition: partition 1 at the alignment's first
 * sector (63 for `cylinder`, 2048 for `mib`, 1 for `sector`), as long as the
 * image (rounded up to whole sectors) or, without `partitionSize`, filling the
 * disk (to the last whole cylinder for `cylinder`). Without `diskSize` the
 * disk is the smallest that fits the alignment.
 *
 * @example The seed
 * ```ts
 * import { planWrap } from "@bigfile/mbr";
 * const plan = planWrap({ partitionSize: 4137283584, diskSize: 4141875200, align: "cylinder" });
 * plan.table.partitions[0]; // start 63, size 8080632
 * ```
 */
export function planWrap(options: WrapOptions): WrapPlan {
  const g = normalizeGeometry(options.geometry);
  const ss = g.sectorSize;
  const align = options.align ?? "mib";
  const probe = alignmentRules(align, options.diskSize ?? 2 ** 52, g);
  const start = probe.firstLba;
  let sectors: number;
  let diskSize: number;
  if (options.partitionSize !== undefined) {
    sectors = Math.ceil(options.partitionSize / ss);
    if (sectors < 1)
      throw new PartitionLayoutError("bad-range", "Cannot wrap an empty partition image", -1, 1);
    const needed = start + sectors;
    const minimal = align === "sector" ? needed : Math.ceil(needed / probe.grain) * probe.grain;
    diskSize = options.diskSize ?? minimal * ss;
    if (needed * ss > diskSize) {
      throw new PartitionLayoutError(
        "no-room",
        `Cannot fit a ${options.partitionSize}-byte partition at sector ${start} on a ${diskSize}-byte disk: it needs at least ${needed * ss} bytes`,
        -1,
        1,
      );
    }
  } else {
    if (options.diskSize === undefined) {
      throw new PartitionLayoutError(
        "bad-range",
        "Cannot size the partition: give the partition size or the disk size",
      );
    }
    diskSize = options.diskSize;
    sectors = probe.lastLba - start + 1;
    if (sectors < 1)
      throw new PartitionLayoutError(
        "no-room",
        `Cannot fit a partition on a ${diskSize}-byte disk with ${align} alignment`,
        -1,
        1,
      );
  }
  if (sectors > 0xffffffff || start + sectors > 2 ** 32) {
    throw new PartitionLayoutError(
      "bad-range",
      `Cannot describe a partition of ${sectors} sectors at sector ${start} in an MBR (2 TiB limit)`,
      -1,
      1,
    );
  }
  const table: PartitionTable = {
    labelId: options.labelId ?? 0,
    sectorSize: ss,
    partitions: [
      {
        number: 1,
        kind: "primary",
        start,
        size: sectors,
        type: options.type ?? 0x83,
        bootable: options.bootable ?? false,
      },
    ],
  };
  return { table, diskSize, partitionOffset: start * ss, partitionLength: sectors * ss };
}

/**
 * A whole disk around a partition image, as a sequence of chunks: sector 0
 * with the table, the zero gap, the partition's bytes as they come (padded
 * with zeros to whole sectors), zeros to the disk's end. Zeros come from one
 * shared buffer; the partition's chunks pass through untouched. Throws
 * `RangeError` when the image is longer than planned.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { stat, writeFile } from "node:fs/promises";
 * import { readFile, writeToFile } from "@bigfile/blockdev/node";
 * import { planWrap, wrapPartition } from "@bigfile/mbr";
 * await writeFile("part.img", new Uint8Array(1 << 20).fill(1));
 * // the seed's: planWrap({ partitionSize: 4137283584, diskSize: 4141875200, align: "cylinder" })
 * const plan = planWrap({ partitionSize: 1 << 20, align: "cylinder" });
 * await writeToFile(wrapPartition(readFile("part.img"), plan), "disk.img");
 * assert.equal((await stat("disk.img")).size, plan.diskSize);
 * ```
 */
export async function* wrapPartition(
  source: AsyncIterable<Uint8Array>,
  plan: WrapPlan,
  options: { geometry?: GeometryOptions } = {},
): AsyncGenerator<Uint8Array> {
  const [sector0] = encodeTable(plan.table, options.geometry ? { geometry: options.geometry } : {});
  yield (sector0 as { bytes: Uint8Array }).bytes;
  yield* zeroChunks(plan.partitionOffset - plan.table.sectorSize);
  let got = 0;
  for await (const chunk of source) {
    got += chunk.length;
    if (got > plan.partitionLength) {
      throw new RangeError(
        `Cannot wrap the partition image: it is longer than the ${plan.partitionLength}-byte partition planned for it`,
      );
    }
    yield chunk;
  }
  yield* zeroChunks(plan.partitionLength - got);
  yield* zeroChunks(plan.diskSize - plan.partitionOffset - plan.partitionLength);
}

/** {@linkcode wrapPartition} as a Web `ReadableStream`. */
export function wrapPartitionStream(
  source: AsyncIterable<Uint8Array>,
  plan: WrapPlan,
): ReadableStream<Uint8Array> {
  const it = wrapPartition(source, plan);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await it.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await it.return(undefined);
    },
  });
}
