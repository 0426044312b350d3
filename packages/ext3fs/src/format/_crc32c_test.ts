import { describe, expect, it } from "vitest";
import { crc32c } from "./_crc32c.ts";

/** The byte-at-a-time definition, to check the sliced loop against. */
function crc32cBytewise(seed: number, bytes: Uint8Array): number {
  let crc = seed >>> 0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0x82f63b78 ^ (crc >>> 1) : crc >>> 1;
  }
  return crc >>> 0;
}

describe("crc32c", () => {
  it("gives the standard check value for '123456789'", () => {
    const crc = crc32c(0xffffffff, new TextEncoder().encode("123456789")) ^ 0xffffffff;
    expect(crc >>> 0).toBe(0xe3069283);
  });

  it("agrees with the bit-by-bit definition for every length and alignment", () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let from = 0; from < 9; from++) {
      for (let to = from; to <= bytes.length; to += 13) {
        const part = bytes.subarray(from, to);
        expect(crc32c(0x12345678, part)).toBe(crc32cBytewise(0x12345678, part));
      }
    }
  });

  it("runs at a useful speed (printed: MB/s for 4 KiB blocks)", () => {
    const block = Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff);
    const rounds = 20_000;
    let x = 0;
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) x ^= crc32c(i, block);
    const ms = performance.now() - t0;
    const mbps = (rounds * 4096) / 1e6 / (ms / 1000);
    console.log(`crc32c slice-by-8: ${mbps.toFixed(0)} MB/s (${x})`);
    expect(mbps).toBeGreaterThan(50);
  });
});
