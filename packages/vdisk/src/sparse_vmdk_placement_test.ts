// SparseVmdkPlacement: a monolithicSparse VMDK written by position in any
// order, judged by writeVmdk's own file, by our reader and by qemu-img against
// the same writes into a raw file.
import { afterAll, describe, expect, it } from "vitest";
import { describeWithTools } from "../../../test/harness/tools.ts";
import { expectQemuReadsRaw, expectSameWritesSameFile } from "./_test_placed_image.ts";
import { rng, scratchDir, testBytes, toMemory, writeScattered } from "./_test_tools.ts";
import { MemorySink } from "./image_sink.ts";
import { SparseVmdkPlacement } from "./sparse_vmdk_placement.ts";

const { dir, cleanup } = scratchDir("vdisk-vmdk-placement-");
afterAll(cleanup);

const GRAIN = 65536;
const IDS = { extentName: "disk.vmdk", cid: 0x12345678 };

/** Scattered writes into a raw file and through a placement into a VMDK. */
function writeBoth(name: string, size: number, seed: number) {
  const placement = new SparseVmdkPlacement(size, IDS);
  return { placement, ...writeScattered(dir, { name, ext: "vmdk" }, size, GRAIN, seed, placement) };
}

describe("SparseVmdkPlacement", () => {
  it("gives a grain the next grain of the file when first written; later writes go there too", () => {
    // 1 GiB: header, descriptor, directory and 32 grain tables fill the first two grains.
    const p = new SparseVmdkPlacement(1 << 30);
    const base = 2 * GRAIN;
    expect(p.place(10 * GRAIN + 5, 10)).toEqual([base + 5, 10]);
    expect(p.place(9 * GRAIN, GRAIN + 100)).toEqual([base + GRAIN, GRAIN, base, 100]);
    // 11, 12 and 13 follow 9 in the file: one range.
    expect(p.place(11 * GRAIN - 1, 2 * GRAIN + 2)).toEqual([
      base + GRAIN - 1,
      1,
      base + 2 * GRAIN,
      2 * GRAIN + 1,
    ]);
    // Across grain tables (grain 511 is the last of the first table): one range too.
    expect(p.place(512 * GRAIN - 10, 20)).toEqual([base + 5 * GRAIN + GRAIN - 10, 20]);
    // The same grain twice, from mid-grain: the same place.
    expect(p.place(512 * GRAIN + 3, 1)).toEqual([base + 6 * GRAIN + 3, 1]);
    expect(p.dataBytes).toBe(7 * GRAIN);
    expect(p.place(0, 0)).toEqual([]);
  });

  it("refuses what is outside the disk, bad sizes, and use after finish", async () => {
    const p = new SparseVmdkPlacement(1000); // rounded up to whole sectors
    expect(p.size).toBe(1024);
    expect(() => p.place(1000, 25)).toThrow(
      /^Cannot place 25 bytes at 1000 of a VMDK disk of 1024 bytes$/,
    );
    expect(() => p.place(-1, 1)).toThrow(RangeError);
    expect(() => p.place(0, Number.NaN)).toThrow(RangeError);
    expect(() => new SparseVmdkPlacement(0)).toThrow(/VMDK of 0 bytes/);
    expect(() => new SparseVmdkPlacement(-512)).toThrow(/non-negative integer/);
    await expect(p.finish(new MemorySink({ seekable: false }))).rejects.toThrow(/seekable/);
    await p.finish(new MemorySink());
    expect(() => p.place(0, 1)).toThrow(/after finish/);
    await expect(p.finish(new MemorySink())).rejects.toThrow(/twice/);
  });

  it("written in order, grain by grain, makes the file writeVmdk makes (same CID)", async () => {
    const random = rng(5);
    // Three grain tables, the last partial, and a partial last sector.
    const size = 70 * (1 << 20) + 1000;
    const raw = new Uint8Array(size);
    for (const at of [0, 3 * GRAIN - 10, 40 << 20, size - 700]) {
      raw.set(testBytes(random, 600), at);
    }
    const expected = await toMemory(raw, "vmdk", IDS);
    const placement = new SparseVmdkPlacement(size, IDS);
    const sink = new MemorySink();
    let grains = 0;
    for (let at = 0; at < size; at += GRAIN) {
      const grain = raw.subarray(at, Math.min(size, at + GRAIN));
      if (grain.every((b) => b === 0)) continue;
      const [position, length] = placement.place(at, grain.length);
      expect(length).toBe(grain.length);
      await sink.write(position as number, grain);
      grains++;
    }
    const result = await placement.finish(sink);
    expect(result).toEqual({
      fileSize: expected.length,
      virtualSize: Math.ceil(size / 512) * 512,
      dataBytes: grains * GRAIN,
    });
    expect(Buffer.compare(sink.bytes(), expected)).toBe(0);
  });

  it("a disk never written to: the metadata only", async () => {
    const expected = await toMemory(new Uint8Array(64 << 20), "vmdk", IDS);
    const sink = new MemorySink();
    const result = await new SparseVmdkPlacement(64 << 20, IDS).finish(sink);
    expect(result.dataBytes).toBe(0);
    expect(Buffer.compare(sink.bytes(), expected)).toBe(0);
  });

  it("the same writes give the same file, which reads back as the raw file", async () => {
    await expectSameWritesSameFile((name) => writeBoth(name, 64 << 20, 7));
  });
});

describeWithTools(["qemu-img"], "SparseVmdkPlacement: qemu-img agrees", () => {
  for (const size of [4141875200, 100 * (1 << 20) + 1000]) {
    it(`${size} bytes written in random order: check clean, compare identical, our reader agrees`, {
      timeout: 120_000,
    }, async () => {
      const w = writeBoth(`disk-${size}`, size, size % 9973);
      const info = await expectQemuReadsRaw(w, size, GRAIN, { format: "vmdk", check: true });
      const specific = info["format-specific"] as { data?: Record<string, unknown> } | undefined;
      expect(specific?.data?.["create-type"]).toBe("monolithicSparse");
    });
  }
});
