import { describe, expect, it } from "vitest";
import { fdiskBlocks } from "./blocks.ts";
import { geometryOf, normalizeGeometry } from "./geometry.ts";

describe("geometryOf", () => {
  it("gives every figure of the seed's big file", () => {
    const g = geometryOf(4141875200);
    expect(g).toMatchObject({
      bytes: 4141875200,
      heads: 255,
      sectorsPerTrack: 63,
      sectorSize: 512,
      cylinders: 503,
      cylinderSectors: 16065,
      cylinderBytes: 8225280,
      usableBytes: 4137315840,
      lostBytes: 4559360,
      trackBytes: 32256,
      totalSectors: 8089600,
    });
    // The whole-disk partition: sector 63 to the end of cylinder 503.
    const end = g.cylinders * g.cylinderSectors - 1;
    expect(end).toBe(8080694);
    const sectors = end - 63 + 1;
    expect(sectors).toBe(8080632);
    expect(fdiskBlocks(sectors).text).toBe("4040316");
    expect(4040316 * 1024).toBe(4137283584);
    expect(g.usableBytes - sectors * 512).toBe(32256);
  });

  it("takes other geometries", () => {
    const g = geometryOf(1 << 30, { heads: 16, sectorsPerTrack: 32, sectorSize: 4096 });
    expect(g.cylinderBytes).toBe(16 * 32 * 4096);
    expect(g.cylinders).toBe(Math.floor((1 << 30) / (16 * 32 * 4096)));
    expect(g.trackBytes).toBe(32 * 4096);
  });

  it("counts an empty disk and a disk smaller than a cylinder", () => {
    expect(geometryOf(0)).toMatchObject({ cylinders: 0, usableBytes: 0, lostBytes: 0 });
    expect(geometryOf(1000)).toMatchObject({
      cylinders: 0,
      usableBytes: 0,
      lostBytes: 1000,
      totalSectors: 1,
    });
  });

  it("refuses impossible numbers with RangeError", () => {
    expect(() => geometryOf(-1)).toThrow(RangeError);
    expect(() => geometryOf(1.5)).toThrow(RangeError);
    expect(() => normalizeGeometry({ heads: 0 })).toThrow(RangeError);
    expect(() => normalizeGeometry({ heads: 257 })).toThrow(RangeError);
    expect(() => normalizeGeometry({ sectorsPerTrack: 64 })).toThrow(RangeError);
    expect(() => normalizeGeometry({ sectorSize: 500 })).toThrow(RangeError);
  });
});

describe("fdiskBlocks", () => {
  it("marks a half KiB with +", () => {
    expect(fdiskBlocks(3)).toEqual({ blocks: 1, odd: true, text: "1+" });
    expect(fdiskBlocks(4)).toEqual({ blocks: 2, odd: false, text: "2" });
    expect(fdiskBlocks(1, 4096).text).toBe("4");
  });
});
