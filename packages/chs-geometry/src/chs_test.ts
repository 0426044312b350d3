import { describe, expect, it } from "vitest";
import { chsToLba, formatChs, lbaToChs, parseChs } from "./chs.ts";
import { lbaToMbrChs, lbaToMbrChsBytes, packChs, unpackChs } from "./mbr_chs.ts";

describe("lbaToChs / chsToLba", () => {
  it("converts the seed's partition bounds", () => {
    expect(lbaToChs(0)).toEqual({ cylinder: 0, head: 0, sector: 1 });
    expect(lbaToChs(63)).toEqual({ cylinder: 0, head: 1, sector: 1 });
    expect(lbaToChs(8080694)).toEqual({ cylinder: 502, head: 254, sector: 63 });
    expect(chsToLba({ cylinder: 502, head: 254, sector: 63 })).toBe(8080694);
  });

  it("round-trips many addresses in several geometries", () => {
    for (const g of [
      {},
      { heads: 16, sectorsPerTrack: 63 },
      { heads: 4, sectorsPerTrack: 32 },
      { heads: 256 },
    ]) {
      for (let lba = 0; lba < 5_000_000; lba += 9973) {
        expect(chsToLba(lbaToChs(lba, g), g)).toBe(lba);
      }
    }
  });

  it("refuses heads and sectors outside the geometry", () => {
    expect(() => chsToLba({ cylinder: 0, head: 255, sector: 1 })).toThrow(RangeError);
    expect(() => chsToLba({ cylinder: 0, head: 0, sector: 0 })).toThrow(RangeError);
    expect(() => chsToLba({ cylinder: 0, head: 0, sector: 64 })).toThrow(RangeError);
    expect(() => lbaToChs(-1)).toThrow(RangeError);
  });

  it("parses and formats C/H/S", () => {
    expect(parseChs("502/254/63")).toEqual({ cylinder: 502, head: 254, sector: 63 });
    expect(parseChs(" 1, 2, 3 ")).toEqual({ cylinder: 1, head: 2, sector: 3 });
    expect(formatChs({ cylinder: 1, head: 2, sector: 3 })).toBe("1/2/3");
    expect(() => parseChs("1/2")).toThrow(SyntaxError);
  });
});

describe("MBR CHS bytes", () => {
  it("packs 0/1/1 as 01 01 00 and 1023/254/63 as FE FF FF", () => {
    expect([...packChs({ cylinder: 0, head: 1, sector: 1 })]).toEqual([0x01, 0x01, 0x00]);
    expect([...packChs({ cylinder: 1023, head: 254, sector: 63 })]).toEqual([0xfe, 0xff, 0xff]);
    expect([...packChs({ cylinder: 502, head: 254, sector: 63 })]).toEqual([0xfe, 0x7f, 0xf6]);
  });

  it("unpacks FE FF FF as 1023/254/63", () => {
    expect(unpackChs(new Uint8Array([0xfe, 0xff, 0xff]))).toEqual({
      cylinder: 1023,
      head: 254,
      sector: 63,
    });
    expect(unpackChs(new Uint8Array([9, 0x01, 0x01, 0x00]), 1)).toEqual({
      cylinder: 0,
      head: 1,
      sector: 1,
    });
    expect(() => unpackChs(new Uint8Array(2))).toThrow(RangeError);
  });

  it("round-trips every packable address", () => {
    for (let c = 0; c <= 1023; c += 7) {
      for (let h = 0; h <= 255; h += 17) {
        for (let s = 0; s <= 63; s += 3) {
          expect(unpackChs(packChs({ cylinder: c, head: h, sector: s }))).toEqual({
            cylinder: c,
            head: h,
            sector: s,
          });
        }
      }
    }
  });

  it("clamps past cylinder 1023 to the geometry's last addressable sector", () => {
    expect(lbaToMbrChs(1024 * 16065 - 1)).toEqual({ cylinder: 1023, head: 254, sector: 63 });
    expect([...lbaToMbrChsBytes(1024 * 16065)]).toEqual([0xfe, 0xff, 0xff]);
    expect([...lbaToMbrChsBytes(2 ** 32 - 1)]).toEqual([0xfe, 0xff, 0xff]);
    expect(lbaToMbrChs(10_000_000, { heads: 16, sectorsPerTrack: 63 })).toEqual({
      cylinder: 1023,
      head: 15,
      sector: 63,
    });
  });

  it("refuses values that do not fit", () => {
    expect(() => packChs({ cylinder: 1024, head: 0, sector: 1 })).toThrow(RangeError);
    expect(() => packChs({ cylinder: 0, head: 256, sector: 1 })).toThrow(RangeError);
    expect(() => packChs({ cylinder: 0, head: 0, sector: 64 })).toThrow(RangeError);
  });
});
