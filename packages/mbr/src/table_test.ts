import { MemoryDevice } from "@bigfile/blockdev";
import { describe, expect, it } from "vitest";
import { encodeTable } from "./encode_table.ts";
import { PartitionLayoutError, PartitionTableError } from "./errors.ts";
import { findPartition, openPartition } from "./find_partition.ts";
import { parseMbr } from "./parse_mbr.ts";
import type { Partition, PartitionTable } from "./partition_table.ts";
import { partitionRange } from "./partition_table.ts";
import { parsePartitionType, partitionTypeName } from "./partition_types.ts";
import { planLayout } from "./plan_layout.ts";
import { readPartitions } from "./read_partitions.ts";
import { assertValidTable, validateTable } from "./validate_table.ts";
import { writeTable } from "./write_table.ts";

const p = (
  number: number,
  start: number,
  size: number,
  extra: Partial<Partition> = {},
): Partition => ({
  number,
  kind: number >= 5 ? "logical" : "primary",
  start,
  size,
  type: 0x83,
  bootable: false,
  ...extra,
});
const table = (partitions: Partition[]): PartitionTable => ({
  labelId: 0xdeadbeef,
  sectorSize: 512,
  partitions,
});

describe("encodeTable / readPartitions", () => {
  it("writes the seed's entry as sfdisk does and reads it back", async () => {
    const [s0] = encodeTable(table([p(1, 63, 8080632, { bootable: true })]));
    const bytes = (s0 as { bytes: Uint8Array }).bytes;
    expect(Buffer.from(bytes.subarray(0x1b8, 0x1ce)).toString("hex")).toBe(
      "efbeadde0000" + "80010100" + "83" + "fe7ff6" + "3f000000" + "f84c7b00",
    );
    expect([bytes[510], bytes[511]]).toEqual([0x55, 0xaa]);
    const disk = new Uint8Array(64 * 512);
    disk.set(bytes);
    const mbr = parseMbr(disk);
    expect(mbr.labelId).toBe(0xdeadbeef);
    expect(mbr.entries[0]).toMatchObject({
      status: 0x80,
      type: 0x83,
      start: 63,
      size: 8080632,
      chsStart: { cylinder: 0, head: 1, sector: 1 },
    });
    expect(mbr.protective).toBe(false);
  });

  it("round-trips primary, extended and logical partitions through an EBR chain", async () => {
    const t = planLayout(
      [
        { size: { sectors: 100 } },
        { kind: "extended", type: 0x0f, size: { sectors: 1000 } },
        { kind: "logical", size: { sectors: 50 }, type: 0x82 },
        { kind: "logical", size: { sectors: 60 }, bootable: true },
        { size: { sectors: 10 }, number: 4 },
      ],
      { diskSize: 2048 * 512, align: "sector", labelId: 7 },
    );
    const dev = new MemoryDevice(new Uint8Array(2048 * 512));
    await writeTable(dev, t);
    const back = await readPartitions(dev);
    expect(back.partitions.map(({ raw, ...rest }) => rest)).toEqual(t.partitions);
    expect(back.labelId).toBe(7);
    expect(back.partitions.map((q) => q.number)).toEqual([1, 2, 4, 5, 6]);
    // The link entry of the first EBR has type 05 and points at the second EBR relative to the extended start.
    const ext = t.partitions[1] as Partition;
    const l6 = t.partitions[4] as Partition;
    const ebr1 = parseMbr(dev.bytes.subarray(ext.start * 512, ext.start * 512 + 512));
    expect(ebr1.entries[1]).toMatchObject({
      type: 0x05,
      start: (l6.ebr as number) - ext.start,
      size: l6.start + l6.size - (l6.ebr as number),
    });
    expect(partitionRange(back, 6)).toEqual({
      number: 6,
      offset: l6.start * 512,
      length: 60 * 512,
    });
    expect((await openPartition(dev, 5)).size).toBe(50 * 512);
  });

  it("keeps boot code when writing a table in place", async () => {
    const dev = new MemoryDevice(new Uint8Array(4096 * 512));
    dev.bytes.fill(0xcc, 0, 440);
    await writeTable(dev, table([p(1, 2048, 100)]));
    expect(dev.bytes.subarray(0, 440).every((b) => b === 0xcc)).toBe(true);
    await writeTable(dev, table([p(1, 2048, 100)]), { keepBootCode: false });
    expect(dev.bytes.subarray(0, 440).every((b) => b === 0)).toBe(true);
  });

  it("refuses to write an invalid table and leaves the device unchanged", async () => {
    const dev = new MemoryDevice(new Uint8Array(4096 * 512));
    const before = dev.bytes.slice();
    await expect(writeTable(dev, table([p(1, 2048, 100), p(2, 2100, 100)]))).rejects.toThrow(
      PartitionLayoutError,
    );
    await expect(writeTable(dev, table([p(1, 2048, 5000)]))).rejects.toMatchObject({
      code: "past-end",
    });
    expect(Buffer.from(dev.bytes).equals(before)).toBe(true);
  });

  it("reports a bad signature with its offset", async () => {
    const error = (await readPartitions(new Uint8Array(1024)).catch(
      (e: unknown) => e,
    )) as PartitionTableError;
    expect(error).toBeInstanceOf(PartitionTableError);
    expect(error).toBeInstanceOf(SyntaxError);
    expect(error.code).toBe("bad-signature");
    expect(error.offset).toBe(510);
    expect(error.message).toBe(
      "Cannot parse partition table: boot signature is 0x0000, expected 0x55AA",
    );
    expect(
      ((await readPartitions(new Uint8Array(100)).catch((e: unknown) => e)) as PartitionTableError)
        .code,
    ).toBe("short-sector");
  });

  it("flags a protective MBR as a GPT disk", async () => {
    const [s0] = encodeTable(table([p(1, 1, 4095, { type: 0xee })]));
    const disk = new Uint8Array(4096 * 512);
    disk.set((s0 as { bytes: Uint8Array }).bytes);
    const t = await readPartitions(disk);
    expect(t.gpt).toBe(true);
    expect(validateTable(t).errors[0]?.code).toBe("gpt");
    expect(validateTable(t).errors[0]?.message).toMatch(/GPT disk/);
    await expect(findPartition(disk, 1)).rejects.toMatchObject({ code: "gpt" });
    await expect(findPartition(new Uint8Array(disk), 3)).rejects.toMatchObject({ code: "gpt" });
  });
});

describe("validateTable", () => {
  const codes = (t: PartitionTable, diskSize?: number) =>
    validateTable(t, diskSize === undefined ? {} : { diskSize }).errors.map((e) => e.code);

  it("accepts a good table", () => {
    expect(codes(table([p(1, 63, 8080632)]), 4141875200)).toEqual([]);
  });

  it("finds overlaps, ends past the disk, bad ranges and numbers", () => {
    expect(codes(table([p(1, 63, 100), p(2, 100, 100)]))).toEqual(["overlap"]);
    expect(codes(table([p(1, 63, 8080633)]), 8080695 * 512)).toEqual(["past-end"]);
    expect(codes(table([p(1, 0, 10)]))).toEqual(["bad-range"]);
    expect(codes(table([p(1, 2 ** 32, 10)]))).toEqual(["bad-range"]);
    expect(codes(table([p(1, 10, 10), { ...p(1, 30, 10) }]))).toEqual(["bad-number"]);
    expect(codes(table([p(5, 10, 10, { kind: "primary" })]))).toEqual(["bad-number"]);
  });

  it("finds logical partitions outside their extended one, and EBR collisions", () => {
    const ext = p(2, 1000, 1000, { kind: "extended", type: 0x05 });
    expect(codes(table([ext, p(5, 1100, 100)]))).toEqual([]);
    expect(codes(table([ext, p(5, 1900, 200)]))).toEqual(["logical-outside"]);
    expect(codes(table([p(5, 1100, 100)]))).toEqual(["logical-outside"]);
    // Logical 6 starts right after 5: no room for its EBR.
    expect(codes(table([ext, p(5, 1100, 100), p(6, 1200, 100)]))).toContain("overlap");
    expect(
      codes(table([ext, p(2, 3000, 10, { kind: "extended", number: 3 } as Partial<Partition>)])),
    ).toContain("extended-count");
  });

  it("warns about several bootable partitions and CHS fields that do not match", async () => {
    const t = table([p(1, 63, 100, { bootable: true }), p(2, 200, 100, { bootable: true })]);
    expect(validateTable(t).warnings.map((w) => w.code)).toEqual(["bootable-count"]);
    const [s0] = encodeTable(t);
    const bytes = new Uint8Array(1024);
    bytes.set((s0 as { bytes: Uint8Array }).bytes);
    bytes[0x1be + 1] = 0x00; // the head of partition 1's start CHS
    const read = await readPartitions(bytes);
    const w = validateTable(read).warnings;
    expect(w.map((x) => x.code)).toContain("chs-mismatch");
    expect(w.find((x) => x.code === "chs-mismatch")?.offset).toBe(0x1be);
    expect(() => assertValidTable(read)).not.toThrow();
  });
});

describe("planLayout", () => {
  it("aligns to MiB by default, as sfdisk", () => {
    const t = planLayout(
      [
        { size: { bytes: 10 << 20 } },
        { size: { sectors: 10000 } },
        { kind: "extended" },
        { size: { bytes: 5 << 20 } },
        {},
      ],
      { diskSize: 1000 << 20 },
    );
    expect(t.partitions.map((q) => [q.number, q.start, q.size])).toEqual([
      [1, 2048, 20480],
      [2, 22528, 10000],
      [3, 32768, 2015232],
      [5, 34816, 10240],
      [6, 47104, 2000896],
    ]);
  });

  it("aligns to cylinders, with logical partitions one track after their EBR", () => {
    const t = planLayout(
      [
        { size: { bytes: 100 << 20 } },
        { kind: "extended" },
        { size: { percent: 10 } },
        { size: "rest" },
      ],
      { diskSize: 4141875200, align: "cylinder" },
    );
    expect(t.partitions.map((q) => [q.number, q.start, q.size, q.ebr])).toEqual([
      [1, 63, 13 * 16065 - 63, undefined],
      [2, 13 * 16065, 503 * 16065 - 13 * 16065, undefined],
      [5, 13 * 16065 + 63, 51 * 16065 - 63, 13 * 16065],
      [6, 64 * 16065 + 63, 503 * 16065 - 64 * 16065 - 63, 64 * 16065],
    ]);
  });

  it("refuses what does not fit", () => {
    expect(() => planLayout([{ size: { sectors: 10_000 } }], { diskSize: 1 << 20 })).toThrow(
      PartitionLayoutError,
    );
    expect(() => planLayout([{}, {}, {}, {}, {}], { diskSize: 1 << 30 })).toThrow(
      /no free space|slots/,
    );
  });
});

describe("partition types", () => {
  it("names and parses types", () => {
    expect(partitionTypeName(0x83)).toBe("Linux");
    expect(partitionTypeName(0x05)).toBe("Extended");
    expect(partitionTypeName(0x8e)).toBe("Linux LVM");
    expect(partitionTypeName(0x3a)).toBe("Unknown");
    expect(parsePartitionType("0x8e")).toBe(0x8e);
    expect(parsePartitionType("f")).toBe(0x0f);
    expect(parsePartitionType("S")).toBe(0x82);
    expect(() => parsePartitionType("zz")).toThrow(SyntaxError);
  });
});
