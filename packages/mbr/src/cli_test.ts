import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../test/harness/tools.ts";
import { readAt, scratchDir, sparseFile } from "./_test_tools.ts";
import { main } from "./cli.ts";
import { encodeTable } from "./encode_table.ts";

const hasSfdisk = await haveTool("sfdisk", "fdisk");
const { dir, cleanup } = scratchDir("mbr-cli-");
afterAll(cleanup);
const MiB = 1 << 20;

async function run(
  args: string[],
  stdin?: string | Uint8Array,
  options: { stdinIsTTY?: boolean; stdoutIsTTY?: boolean } = {},
) {
  const io = memoryIo({ ...(stdin !== undefined && { stdin }), ...options });
  const code = await main(args, io);
  return { code, out: io.stdoutText(), bytes: io.stdoutBytes(), err: io.stderrText() };
}

const LAYOUT =
  "label: dos\nlabel-id: 0x11223344\nstart=2048, size=4096, type=83, bootable\nstart=8192, size=20000, type=5\nstart=10240, size=2048, type=82\nstart=14336, size=4096, type=83\n";

describe.skipIf(!hasSfdisk)("mbr apply", () => {
  it("writes a script's table, which sfdisk reads back, keeping the boot code", async () => {
    const img = sparseFile(join(dir, "a.img"), 16 * MiB);
    const bytes = readFileSync(img);
    bytes.fill(0xab, 0, 440);
    writeFileSync(img, bytes);
    const r = await run(["apply", img], LAYOUT);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const json = JSON.parse((await execa("sfdisk", ["--json", img])).stdout).partitiontable;
    expect(json.id).toBe("0x11223344");
    expect(
      json.partitions.map((p: { start: number; size: number; type: string }) => [
        p.start,
        p.size,
        p.type,
      ]),
    ).toEqual([
      [2048, 4096, "83"],
      [8192, 20000, "5"],
      [10240, 2048, "82"],
      [14336, 4096, "83"],
    ]);
    expect(readAt(img, 0, 440).every((b) => b === 0xab)).toBe(true);
    // A script without label-id keeps the disk signature.
    expect((await run(["apply", img], "start=2048, size=100\n")).code).toBe(0);
    expect(JSON.parse((await execa("sfdisk", ["--json", img])).stdout).partitiontable.id).toBe(
      "0x11223344",
    );
    expect(readAt(img, 0, 440).every((b) => b === 0xab)).toBe(true);
  });

  it("refuses invalid tables and leaves the image unchanged", async () => {
    const img = sparseFile(join(dir, "b.img"), 16 * MiB);
    expect((await run(["apply", img], LAYOUT)).code).toBe(0);
    const before = readFileSync(img);
    const cases: Array<[string, RegExp]> = [
      ["start=2048, size=4096\nstart=4000, size=100\n", /overlap.*was not changed/],
      [
        "start=2048, size=40000\n",
        /cannot fit partition 1: it needs 40000 sectors.*was not changed/,
      ],
      [
        '{"partitiontable":{"label":"dos","partitions":[{"node":"x1","start":30000,"size":3000,"type":"83"}]}}',
        /ends at sector 32999, past the end of the disk.*was not changed/,
      ],
      [
        "start=2048, size=4096, type=5\nstart=10000, size=100, type=83\nstart=1000000, size=10\n",
        /./,
      ],
      ["start=2048, size=4096\nstart=x\n", /cannot parse sfdisk script line 'start=x'/],
      ["label: gpt\n", /only 'label: dos'/],
      ["start=2048, size=4096, type=zz\n", /partition type 'zz'/],
      ["{ not json", /cannot parse sfdisk JSON/],
    ];
    for (const [script, message] of cases) {
      const r = await run(["apply", img], script);
      expect(r.code, script).toBe(1);
      expect(r.err).toMatch(/^mbr: /);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      expect(readFileSync(img).equals(before), script).toBe(true);
    }
  });

  it("refuses a GPT disk, a terminal on stdin, and a missing image", async () => {
    const img = sparseFile(join(dir, "gpt.img"), 16 * MiB);
    await execa("sfdisk", ["-q", img], { input: "label: gpt\nsize=1000\n" });
    const before = readFileSync(img);
    const r = await run(["apply", img], LAYOUT);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/GPT/);
    expect(readFileSync(img).equals(before)).toBe(true);
    expect((await run(["print", img])).err).toMatch(/GPT disk/);
    expect((await run(["apply", img], undefined, { stdinIsTTY: true })).code).toBe(2);
    const missing = await run(["apply", join(dir, "nope.img")], LAYOUT);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no such file/);
  });

  it("reads sfdisk JSON too, and --dry-run writes nothing", async () => {
    const img = sparseFile(join(dir, "c.img"), 16 * MiB);
    const src = sparseFile(join(dir, "c-src.img"), 16 * MiB);
    await execa("sfdisk", ["-q", src], { input: LAYOUT });
    const json = (await execa("sfdisk", ["--json", src])).stdout;
    const dry = await run(["apply", "--dry-run", img], json);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain("start=       10240, size=        2048, type=82");
    expect(readAt(img, 0, 512).every((b) => b === 0)).toBe(true);
    expect((await run(["apply", img], json)).code).toBe(0);
    expect((await execa("sfdisk", ["--dump", img])).stdout.replaceAll(img, "X")).toBe(
      (await execa("sfdisk", ["--dump", src])).stdout.replaceAll(src, "X"),
    );
  });
});

describe("mbr print and extract", () => {
  const img = join(dir, "p.img");
  const disk = new Uint8Array(16 * MiB);
  const table = {
    labelId: 0xcafe,
    sectorSize: 512,
    partitions: [
      { number: 1, kind: "primary" as const, start: 2048, size: 100, type: 0x83, bootable: false },
      {
        number: 2,
        kind: "extended" as const,
        start: 4096,
        size: 8192,
        type: 0x05,
        bootable: false,
      },
      { number: 5, kind: "logical" as const, start: 6144, size: 50, type: 0x83, bootable: false },
    ],
  };
  for (const s of encodeTable(table)) disk.set(s.bytes, s.lba * 512);
  disk.fill(0x11, 2048 * 512, 2148 * 512);
  disk.fill(0x55, 6144 * 512, 6194 * 512);
  writeFileSync(img, disk);

  it("prints from a file and from a pipe", async () => {
    const file = await run(["print", "--dump", img]);
    expect(file.code).toBe(0);
    expect(file.out).toContain(`${img}5 : start=        6144, size=          50, type=83`);
    const pipe = await run(["print", "--json"], disk);
    expect(pipe.code).toBe(0);
    expect(JSON.parse(pipe.out).partitiontable.partitions).toHaveLength(3);
    const listing = await run(["print"], disk);
    expect(listing.out).toContain("Disk stdin: 16 MiB, 16777216 bytes, 32768 sectors");
    expect(listing.out).toMatch(/\nstdin5 +6144 +6193 +50 +25K +83 Linux\n/);
  });

  it("extracts primary and logical partitions from a file and from a pipe", async () => {
    for (const [n, byte, size] of [
      ["1", 0x11, 100 * 512],
      ["5", 0x55, 50 * 512],
    ] as const) {
      const a = await run(["extract", n, img]);
      expect(a.code).toBe(0);
      expect(a.bytes.length).toBe(size);
      expect(a.bytes.every((b) => b === byte)).toBe(true);
      const b = await run(["extract", n], disk);
      expect(b.code).toBe(0);
      expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    }
  });

  it("fails clearly", async () => {
    const none = await run(["extract", "3", img]);
    expect(none.code).toBe(1);
    expect(none.err).toBe(`mbr: no partition 3 in ${img} (partitions: 1, 2, 5)\n`);
    expect((await run(["extract", "2", img])).err).toMatch(/extended container/);
    expect((await run(["extract", "0", img])).code).toBe(2);
    expect((await run(["extract", "1", img], undefined, { stdoutIsTTY: true })).code).toBe(2);
    const blank = await run(["print"], new Uint8Array(4096));
    expect(blank.code).toBe(1);
    expect(blank.err).toBe(
      "mbr: cannot parse partition table: boot signature is 0x0000, expected 0x55AA (at byte 510)\n",
    );
    expect((await run(["print", "--units", "heads", img])).code).toBe(2);
    expect((await run(["print"], undefined, { stdinIsTTY: true })).code).toBe(2);
    const truncated = await run(["extract", "5"], disk.subarray(0, 6150 * 512));
    expect(truncated.code).toBe(1);
    expect(truncated.err).toMatch(/ends .* before the end of partition 5/);
  });
});

describe("mbr wrap", () => {
  it("wraps a small partition from a pipe into the smallest MiB-aligned disk", async () => {
    const part = new Uint8Array(10_000).fill(7);
    const r = await run(
      [
        "wrap",
        "--partition-size",
        "10000",
        "--type",
        "7",
        "--bootable",
        "--label-id",
        "0xabcdef01",
      ],
      part,
    );
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.bytes.length).toBe(4096 * 512);
    expect([...r.bytes.subarray(0x1b8, 0x1bc)]).toEqual([0x01, 0xef, 0xcd, 0xab]);
    expect(r.bytes[0x1be]).toBe(0x80);
    expect(r.bytes[0x1be + 4]).toBe(0x07);
    expect(r.bytes.subarray(2048 * 512, 2048 * 512 + 10_000).every((b) => b === 7)).toBe(true);
    expect(r.bytes.subarray(2048 * 512 + 10_000).every((b) => b === 0)).toBe(true);
    const sectors = await run(
      ["wrap", "--partition-size", "10000", "--align", "sector", "--label-id", "1"],
      part,
    );
    expect(sectors.bytes.length).toBe((1 + 20) * 512);
  });

  it("fills --disk-size from a pipe, and refuses what does not fit", async () => {
    const cyl = 16065 * 512;
    const r = await run(
      ["wrap", "--align", "cylinder", "--disk-size", String(3 * cyl + 1000), "--label-id", "1"],
      new Uint8Array(1000).fill(1),
    );
    expect(r.code).toBe(0);
    expect(r.bytes.length).toBe(3 * cyl + 1000);
    expect(new DataView(r.bytes.buffer, r.bytes.byteOffset).getUint32(0x1be + 12, true)).toBe(
      3 * 16065 - 63,
    );
    const tooBig = await run(
      ["wrap", "--disk-size", "2M", "--partition-size", "2M"],
      new Uint8Array(10),
    );
    expect(tooBig.code).toBe(1);
    expect(tooBig.err).toMatch(
      /cannot fit a 2097152-byte partition at sector 2048 on a 2097152-byte disk/,
    );
    const longer = await run(["wrap", "--partition-size", "1000"], new Uint8Array(5000));
    expect(longer.code).toBe(1);
    expect(longer.err).toMatch(/longer than the 1024-byte partition/);
    const file = join(dir, "w.img");
    writeFileSync(file, new Uint8Array(5000));
    const early = await run(["wrap", "--partition-size", "1000", file]);
    expect(early.code).toBe(1);
    expect(early.err).toBe(
      "mbr: the partition image holds 5000 bytes, more than --partition-size 1000; nothing was written\n",
    );
    expect(early.bytes.length).toBe(0);
    expect((await run(["wrap"], new Uint8Array(10))).code).toBe(2);
    expect((await run(["wrap", "--align", "track"], new Uint8Array(10))).code).toBe(2);
    expect(
      (await run(["wrap", "--partition-size", "10"], new Uint8Array(10), { stdoutIsTTY: true }))
        .code,
    ).toBe(2);
  });
});
