// The parser treats every image as hostile: random and mutated sectors, EBR chains that loop or
// point outside the disk end in typed errors (or a table), never a crash or a hang.
import { MemoryDevice } from "@bigfile/blockdev";
import { describe, expect, it } from "vitest";
import { rng } from "./_test_tools.ts";
import { encodeTable } from "./encode_table.ts";
import { PartitionLayoutError, PartitionTableError } from "./errors.ts";
import { formatFdiskListing, formatLegacyListing } from "./fdisk_listing.ts";
import type { PartitionTable } from "./partition_table.ts";
import { planLayout } from "./plan_layout.ts";
import { readPartitions } from "./read_partitions.ts";
import { formatSfdiskJson } from "./sfdisk_json.ts";
import { formatSfdiskDump } from "./sfdisk_script.ts";
import { StreamSectorReader } from "./stream_sector_reader.ts";
import { validateTable } from "./validate_table.ts";

const SECTORS = 400;

function validImage(random: () => number): Uint8Array {
  const logicals = 1 + Math.floor(random() * 5);
  const requests = [
    { type: 0x83, size: { sectors: 10 + Math.floor(random() * 20) } },
    {
      kind: "extended" as const,
      type: [0x05, 0x0f, 0x85][Math.floor(random() * 3)] as number,
      size: { sectors: 250 },
    },
    ...Array.from({ length: logicals }, () => ({
      kind: "logical" as const,
      type: 0x83,
      size: { sectors: 5 + Math.floor(random() * 20) },
    })),
  ];
  const table = planLayout(requests, { diskSize: SECTORS * 512, align: "sector", labelId: 42 });
  const bytes = new Uint8Array(SECTORS * 512);
  for (const s of encodeTable(table)) bytes.set(s.bytes, s.lba * 512);
  return bytes;
}

/** Reads a table every way there is and checks only typed errors come out. */
async function probe(bytes: Uint8Array): Promise<"table" | PartitionTableError["code"]> {
  const outcomes: string[] = [];
  for (const source of [
    new MemoryDevice(bytes),
    bytes,
    new StreamSectorReader(ReadableStream.from([bytes.subarray(0, 700), bytes.subarray(700)])),
  ]) {
    try {
      const table = await readPartitions(source);
      exercise(table, bytes.length);
      outcomes.push("table");
    } catch (error) {
      if (!(error instanceof PartitionTableError)) throw error;
      expect(error.offset).toBeGreaterThanOrEqual(0);
      expect(error.message).toMatch(/^Cannot /);
      outcomes.push(error.code);
    }
  }
  // A forward-only stream may refuse a chain that goes backwards; the random-access readers agree.
  expect(outcomes[1]).toBe(outcomes[0]);
  return outcomes[0] as "table";
}

function exercise(table: PartitionTable, diskSize: number): void {
  const report = validateTable(table, { diskSize });
  for (const e of report.errors) expect(e).toBeInstanceOf(PartitionLayoutError);
  formatSfdiskDump(table);
  formatSfdiskJson(table);
  formatFdiskListing(table, { diskSize });
  formatLegacyListing(table, { diskSize });
  try {
    encodeTable(table);
  } catch (error) {
    expect(error).toBeInstanceOf(PartitionLayoutError);
  }
}

function setLink(bytes: Uint8Array, ebrLba: number, relStart: number): void {
  const view = new DataView(bytes.buffer);
  const at = ebrLba * 512 + 0x1be + 16;
  bytes[at + 4] = 0x05;
  view.setUint32(at + 8, relStart, true);
  view.setUint32(at + 12, 10, true);
}

describe("fuzzing the parser", () => {
  it("survives random sectors", async () => {
    const random = rng(7);
    const seen = new Set<string>();
    for (let i = 0; i < 1500; i++) {
      const bytes = new Uint8Array(
        512 * (1 + Math.floor(random() * 40)) + Math.floor(random() * 3) * 100,
      );
      for (let j = 0; j < bytes.length; j++) bytes[j] = (random() * 256) | 0;
      if (random() < 0.8) {
        bytes[510] = 0x55;
        bytes[511] = 0xaa;
      }
      seen.add(await probe(bytes));
    }
    expect(seen.has("bad-signature")).toBe(true);
    expect(seen.size).toBeGreaterThan(2);
  });

  it("survives mutated valid tables", async () => {
    const random = rng(11);
    const seen = new Set<string>();
    for (let i = 0; i < 1500; i++) {
      const bytes = validImage(random);
      const ebrs = [0];
      for (let s = 1; s < SECTORS; s++) if (bytes[s * 512 + 510] === 0x55) ebrs.push(s);
      const flips = 1 + Math.floor(random() * 6);
      for (let f = 0; f < flips; f++) {
        const sector = ebrs[Math.floor(random() * ebrs.length)] as number;
        const at = sector * 512 + 0x1be + Math.floor(random() * 66);
        bytes[at] =
          random() < 0.5
            ? (random() * 256) | 0
            : (bytes[at] as number) ^ (1 << Math.floor(random() * 8));
      }
      seen.add(await probe(bytes));
    }
    expect(seen.has("table")).toBe(true);
    expect([...seen].some((c) => c.startsWith("ebr-"))).toBe(true);
  });

  it("stops EBR chains that loop, with the offset of the looping link", async () => {
    const bytes = validImage(rng(3));
    const table = await readPartitions(bytes);
    const ext = table.partitions.find((p) => p.kind === "extended");
    const last = table.partitions.filter((p) => p.kind === "logical").at(-1);
    if (!ext || !last) throw new Error("test layout lacks logical partitions");
    setLink(bytes, last.ebr as number, 0); // back to the first EBR
    const error = await readPartitions(bytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartitionTableError);
    expect((error as PartitionTableError).code).toBe("ebr-loop");
    expect((error as PartitionTableError).offset).toBe((last.ebr as number) * 512 + 0x1be + 16);
    // A self-loop too.
    setLink(bytes, ext.start, 0);
    expect(
      ((await readPartitions(bytes).catch((e: unknown) => e)) as PartitionTableError).code,
    ).toBe("ebr-loop");
  });

  it("stops EBR links that leave the extended partition or the disk", async () => {
    const bytes = validImage(rng(5));
    const table = await readPartitions(bytes);
    const ext = table.partitions.find((p) => p.kind === "extended") as {
      start: number;
      size: number;
    };
    for (const rel of [ext.size, ext.size + 5, 0xffffffff, SECTORS * 2]) {
      const copy = bytes.slice();
      setLink(copy, ext.start, rel);
      const error = (await readPartitions(copy).catch((e: unknown) => e)) as PartitionTableError;
      expect(error).toBeInstanceOf(PartitionTableError);
      expect(error.code).toBe("ebr-outside");
      expect(error.offset).toBe(ext.start * 512 + 0x1be + 16);
    }
    // An extended partition that points past the end of the disk.
    const copy = bytes.slice();
    const slot = 0x1be + 16 * table.partitions.findIndex((p) => p.kind === "extended");
    new DataView(copy.buffer).setUint32(slot + 8, SECTORS + 100, true);
    expect(
      ((await readPartitions(copy).catch((e: unknown) => e)) as PartitionTableError).code,
    ).toBe("ebr-outside");
  });

  it("refuses a chain longer than maxLogical", async () => {
    // 300 EBRs, each linking to the next sector.
    const bytes = new Uint8Array(320 * 512);
    const view = new DataView(bytes.buffer);
    bytes[510] = 0x55;
    bytes[511] = 0xaa;
    bytes[0x1be + 4] = 0x05;
    view.setUint32(0x1be + 8, 1, true);
    view.setUint32(0x1be + 12, 310, true);
    for (let s = 1; s <= 300; s++) {
      bytes[s * 512 + 510] = 0x55;
      bytes[s * 512 + 511] = 0xaa;
      setLink(bytes, s, s);
    }
    const error = (await readPartitions(bytes, { maxLogical: 100 }).catch(
      (e: unknown) => e,
    )) as PartitionTableError;
    expect(error.code).toBe("ebr-too-many");
  });
});
