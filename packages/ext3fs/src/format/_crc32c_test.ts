import { describe, expect, it } from "vitest";
import { crc32c } from "./_crc32c.ts";

describe("crc32c", () => {
  it("gives the standard check value for '123456789'", () => {
    const crc = crc32c(0xffffffff, new TextEncoder().encode("123456789")) ^ 0xffffffff;
    expect(crc >>> 0).toBe(0xe3069283);
  });
});
