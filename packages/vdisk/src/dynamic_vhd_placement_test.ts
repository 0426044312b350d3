// DynamicVhdPlacement: a dynamic VHD written by position in any order, judged
// by writeVhd's own file, by our reader and by qemu-img against the same
// writes into a raw file.
import { afterAll, describe, expect, it } from "vitest";
import { describeWithTools } from "../../../test/harness/tools.ts";
import { expectQemuReadsRaw, expectSameWritesSameFile } from "./_test_placed_image.ts";
import { rng, scratchDir, testBytes, toMemory, writeScattered } from "./_test_tools.ts";
import { DynamicVhdPlacement } from "./dynamic_vhd_placement.ts";
import { MemorySink } from "./image_sink.ts";

const { dir, cleanup } = scratchDir("vdisk-vhd-placement-");
afterAll(cleanup);

const BLOCK = 2 << 20;
const IDS = { timestamp: new Date("2026-01-01T00:00:00Z"), uuid: new Uint8Array(16).fill(7) };

/** Scattered writes into a raw file and through a placement into a dynamic VHD. */
function writeBoth(name: string, size: number, seed: number) {
  const placement = new DynamicVhdPlacement(size, IDS);
  return { placement, ...writeScattered(dir, { name, ext: "vhd" }, size, BLOCK, seed, placement) };
}

describe("DynamicVhdPlacement", () => {
  it("gives a block the next block of the file when first written; later writes go there too", () => {
    // 1 GiB: a 2 KiB table after the headers, the first bitmap at 3584 and its
    // block at 4096; each block takes 2 MiB and a 4 KiB-aligned bitmap.
    const p = new DynamicVhdPlacement(1 << 30);
    const slot = BLOCK + 4096;
    expect(p.place(10 * BLOCK + 5, 10)).toEqual([4096 + 5, 10]);
    // Block 9, then into block 10: never one range (a bitmap between).
    expect(p.place(9 * BLOCK, BLOCK + 100)).toEqual([4096 + slot, BLOCK, 4096, 100]);
    // Mid-block starts, the same blocks again: the same places.
    expect(p.place(10 * BLOCK - 1, 2)).toEqual([4096 + slot + BLOCK - 1, 1, 4096, 1]);
    expect(p.place(11 * BLOCK - 3, BLOCK + 6)).toEqual([
      4096 + BLOCK - 3,
      3,
      4096 + 2 * slot,
      BLOCK,
      4096 + 3 * slot,
      3,
    ]);
    expect(p.dataBytes).toBe(4 * BLOCK);
    expect(p.place(0, 0)).toEqual([]);
    expect(p.place((1 << 30) - 1, 1)).toEqual([4096 + 4 * slot + BLOCK - 1, 1]);
  });

  it("refuses what is outside the disk, bad sizes and alignments, and use after finish", async () => {
    const p = new DynamicVhdPlacement(1000); // rounded up to whole sectors, as writeVhd does
    expect(p.size).toBe(1024);
    expect(() => p.place(1000, 25)).toThrow(
      /^Cannot place 25 bytes at 1000 of a dynamic VHD of 1024 bytes$/,
    );
    expect(() => p.place(-1, 1)).toThrow(RangeError);
    expect(() => p.place(0.5, 1)).toThrow(RangeError);
    expect(() => new DynamicVhdPlacement(-1)).toThrow(/non-negative integer/);
    expect(() => new DynamicVhdPlacement(4096, { alignment: 1000 })).toThrow(/multiple of 512/);
    expect(() => new DynamicVhdPlacement(2041 * 2 ** 30)).toThrow(/2040 GiB/);
    await expect(p.finish(new MemorySink({ seekable: false }))).rejects.toThrow(/seekable/);
    await p.finish(new MemorySink());
    expect(() => p.place(0, 1)).toThrow(/after finish/);
    await expect(p.finish(new MemorySink())).rejects.toThrow(/twice/);
  });

  it("written in order, block by block, makes the file writeVhd makes (same id and time)", async () => {
    const random = rng(3);
    const size = 9 * BLOCK + 12345;
    const raw = new Uint8Array(size);
    for (const at of [0, 3 * BLOCK - 10, 6 * BLOCK + 4096, size - 700]) {
      raw.set(testBytes(random, 600), at);
    }
    const expected = await toMemory(raw, "vhd", IDS);
    const placement = new DynamicVhdPlacement(size, IDS);
    const sink = new MemorySink();
    for (let at = 0; at < size; at += BLOCK) {
      const block = raw.subarray(at, Math.min(size, at + BLOCK));
      if (block.every((b) => b === 0)) continue;
      const [position, length] = placement.place(at, block.length);
      expect(length).toBe(block.length);
      await sink.write(position as number, block);
    }
    const result = await placement.finish(sink);
    expect(result).toEqual({
      fileSize: expected.length,
      virtualSize: size + 512 - (size % 512),
      dataBytes: 5 * BLOCK,
    });
    expect(Buffer.compare(sink.bytes(), expected)).toBe(0);
  });

  it("an empty disk, and one never written to: headers, table and footer only", async () => {
    for (const size of [0, 64 << 20]) {
      const expected = await toMemory(new Uint8Array(size), "vhd", IDS);
      const sink = new MemorySink();
      const result = await new DynamicVhdPlacement(size, IDS).finish(sink);
      expect(result.dataBytes).toBe(0);
      expect(Buffer.compare(sink.bytes(), expected)).toBe(0);
    }
  });

  it("the same writes give the same file, which reads back as the raw file", async () => {
    await expectSameWritesSameFile((name) => writeBoth(name, 64 << 20, 7));
  });
});

describeWithTools(["qemu-img"], "DynamicVhdPlacement: qemu-img agrees", () => {
  for (const size of [4141875200, 300 * (1 << 20) + 1000]) {
    it(`${size} bytes written in random order: qemu-img reads the raw disk, our reader agrees`, {
      timeout: 120_000,
    }, async () => {
      const w = writeBoth(`disk-${size}`, size, size % 9973);
      // qemu-img has no check for VHD: its own reading of the file is the oracle.
      await expectQemuReadsRaw(w, size, BLOCK, { format: "vpc", check: false });
    });
  }
});
