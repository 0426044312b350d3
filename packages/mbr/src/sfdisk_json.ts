import { PartitionTableError } from "./errors.ts";
import type { Partition, PartitionTable } from "./partition_table.ts";
import { formatPartitionType, isExtendedType } from "./partition_types.ts";
import { partitionNode } from "./sfdisk_script.ts";

/** One partition in `sfdisk --json`. */
export interface SfdiskJsonPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  bootable?: boolean;
}

/** The document `sfdisk --json` prints for a DOS disk. */
export interface SfdiskJson {
  partitiontable: {
    label: "dos";
    id: string;
    device: string;
    unit: "sectors";
    sectorsize: number;
    partitions: SfdiskJsonPartition[];
  };
}

/**
 * A table in the shape of `sfdisk --json`.
 *
 * @example Usage
 * ```ts
 * import { toSfdiskJson } from "@bigfile/mbr";
 * toSfdiskJson({ labelId: 1, sectorSize: 512, partitions: [] }, "big.img").partitiontable.id; // "0x00000001"
 * ```
 */
export function toSfdiskJson(table: PartitionTable, device = "disk"): SfdiskJson {
  return {
    partitiontable: {
      label: "dos",
      id: `0x${(table.labelId >>> 0).toString(16).padStart(8, "0")}`,
      device,
      unit: "sectors",
      sectorsize: table.sectorSize,
      partitions: table.partitions.map((p) => {
        const out: SfdiskJsonPartition = {
          node: partitionNode(device, p.number),
          start: p.start,
          size: p.size,
          type: formatPartitionType(p.type),
        };
        if (p.bootable) out.bootable = true;
        return out;
      }),
    },
  };
}

/** The text `sfdisk --json` prints (3-space indentation), newline-terminated. */
export function formatSfdiskJson(table: PartitionTable, device = "disk"): string {
  // sfdisk joins the partition objects as `},{` on one line.
  return `${JSON.stringify(toSfdiskJson(table, device), null, 3).replace(/\},\n\s*\{/g, "},{")}\n`;
}

/**
 * Reads the output of `sfdisk --json` (DOS only) back into a table. Partition
 * numbers come from the node names; logical ones (5+) from their number.
 * Throws {@linkcode PartitionTableError} (`json-syntax`).
 */
export function parseSfdiskJson(text: string): PartitionTable {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new PartitionTableError(
      "json-syntax",
      `Cannot parse sfdisk JSON: ${(error as Error).message}`,
      0,
    );
  }
  const pt = (doc as Partial<SfdiskJson> | null)?.partitiontable;
  if (!pt || typeof pt !== "object")
    throw new PartitionTableError(
      "json-syntax",
      "Cannot parse sfdisk JSON: no 'partitiontable' object",
      0,
    );
  if (pt.label !== "dos")
    throw new PartitionTableError(
      "json-syntax",
      `Cannot parse sfdisk JSON: label is '${String(pt.label)}', only 'dos' is supported`,
      0,
    );
  const partitions: Partition[] = (pt.partitions ?? []).map((q, i) => {
    const m = /(\d+)$/.exec(String(q.node));
    const number = m ? Number(m[1]) : i + 1;
    const type = Number.parseInt(String(q.type), 16);
    if (!Number.isSafeInteger(q.start) || !Number.isSafeInteger(q.size) || Number.isNaN(type)) {
      throw new PartitionTableError(
        "json-syntax",
        `Cannot parse sfdisk JSON: partition ${q.node} needs integer start and size and a hex type`,
        0,
      );
    }
    return {
      number,
      kind: number >= 5 ? "logical" : isExtendedType(type) ? "extended" : "primary",
      start: q.start,
      size: q.size,
      type,
      bootable: q.bootable === true,
    };
  });
  return {
    labelId: Number.parseInt(String(pt.id ?? "0").replace(/^0x/i, ""), 16) >>> 0,
    sectorSize: pt.sectorsize ?? 512,
    partitions,
  };
}
