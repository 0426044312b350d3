import { describe, expect, test } from "vitest";
import { placedRanges, sameOffsetRanges, unitsWithData } from "./image_sink.ts";
import { allocationUnit } from "./write_image.ts";

/** What placedRanges must give, byte by byte: the file position of every data byte. */
function placedBytes(ranges: number[]): Map<number, number> {
  const at = new Map<number, number>();
  for (let i = 0; i < ranges.length; i += 3) {
    for (let b = 0; b < (ranges[i + 2] as number); b++) {
      at.set((ranges[i + 1] as number) + b, (ranges[i] as number) + b);
    }
  }
  return at;
}

describe("placedRanges", () => {
  test("each data byte lands in its unit's slot, nothing else is copied, neighbours coalesce", () => {
    const unit = 16;
    const runs = [3, 2, 14, 20, 40, 1, 64, 40];
    const units = unitsWithData(runs, unit); // 0, 1, 2, 4, 5, 6
    expect(units).toEqual([0, 1, 2, 4, 5, 6]);
    // Slots with gaps between them (as a VHD's bitmaps make), and consecutive ones (qcow2).
    for (const slotOf of [(k: number) => 1000 + k * 20, (k: number) => 1000 + k * unit]) {
      const ranges = placedRanges(runs, units, unit, slotOf);
      const at = placedBytes(ranges);
      const data = new Set<number>();
      for (let i = 0; i < runs.length; i += 2) {
        for (let b = 0; b < (runs[i + 1] as number); b++) data.add((runs[i] as number) + b);
      }
      expect(new Set(at.keys())).toEqual(data);
      for (const [offset, position] of at) {
        const k = units.indexOf(Math.floor(offset / unit));
        expect(position).toBe(slotOf(k) + (offset % unit));
      }
      // No two ranges that could have been one.
      for (let i = 3; i < ranges.length; i += 3) {
        const joinable =
          (ranges[i - 3] as number) + (ranges[i - 1] as number) === ranges[i] &&
          (ranges[i - 2] as number) + (ranges[i - 1] as number) === ranges[i + 1];
        expect(joinable).toBe(false);
      }
    }
    // Consecutive slots: the run 64..104 across units 4..6 is one range.
    expect(placedRanges([64, 40], [4, 5, 6], 16, (k) => k * 16)).toEqual([0, 64, 40]);
  });

  test("units the runs do not reach copy nothing", () => {
    expect(placedRanges([100, 10], [0, 6], 16, (k) => k * 16)).toEqual([16 + 4, 100, 10]);
    expect(placedRanges([], [0, 1], 16, (k) => k * 16)).toEqual([]);
  });
});

test("sameOffsetRanges clips to the image", () => {
  expect(sameOffsetRanges([0, 512, 8192, 4096], 10000)).toEqual([0, 0, 512, 8192, 8192, 1808]);
  expect(sameOffsetRanges([20000, 10], 10000)).toEqual([]);
});

test("allocationUnit: what each format allocates at a time", () => {
  expect(allocationUnit("qcow2")).toBe(65536);
  expect(allocationUnit("qcow2", { clusterSize: 4096 })).toBe(4096);
  expect(allocationUnit("vhd")).toBe(2 << 20);
  expect(allocationUnit("vmdk")).toBe(65536);
  expect(allocationUnit("vmdk-stream")).toBe(65536);
  expect(allocationUnit("vhd-fixed")).toBe(0);
  expect(allocationUnit("raw")).toBe(0);
});
