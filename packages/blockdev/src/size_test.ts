import { describe, expect, it } from "vitest";
import { formatSize, parseSize } from "./size.ts";

describe("parseSize", () => {
  it("reads the seed's numbers in every spelling", () => {
    expect(parseSize("4141875200")).toBe(4141875200);
    expect(parseSize("8080632s")).toBe(4137283584);
    expect(parseSize("63s")).toBe(32256);
    expect(parseSize("4G")).toBe(4 * 2 ** 30);
    expect(parseSize("4GiB")).toBe(4 * 2 ** 30);
    expect(parseSize("512M")).toBe(512 * 2 ** 20);
    expect(parseSize("64k")).toBe(65536);
    expect(parseSize("4GB")).toBe(4e9);
    expect(parseSize("1.5K")).toBe(1536);
    expect(parseSize("8s", { sectorSize: 4096 })).toBe(32768);
  });

  it("refuses what is not a size, saying what it expected", () => {
    expect(() => parseSize("four")).toThrow(SyntaxError);
    expect(() => parseSize("4X")).toThrow(/unknown unit 'X'/);
    expect(() => parseSize("-1")).toThrow(SyntaxError);
    expect(() => parseSize("1.5")).toThrow(/whole number/);
    expect(() => parseSize("1.5s")).toThrow(/whole number/);
    expect(() => parseSize("99999999E")).toThrow(RangeError);
  });
});

describe("formatSize", () => {
  it("formats for people", () => {
    expect(formatSize(100)).toBe("100 bytes");
    expect(formatSize(512 * 2 ** 20)).toBe("512 MiB");
    expect(formatSize(4141875200)).toBe("3.86 GiB");
  });
});
