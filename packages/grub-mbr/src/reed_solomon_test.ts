import { describe, expect, it } from "vitest";
import {
  addReedSolomon,
  checkReedSolomon,
  decodeCodeword,
  repairReedSolomon,
  rsParity,
} from "./reed_solomon.ts";

function random(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe("rsParity", () => {
  it("makes codewords whose syndromes are zero", () => {
    const m = random(40, 3);
    const word = new Uint8Array([...m, ...rsParity(m, 10)]);
    expect(decodeCodeword(word, 10)).toEqual([]);
  });

  it("locates and sizes up to r/2 errors", () => {
    for (let trial = 0; trial < 50; trial++) {
      const m = random(30 + trial, trial + 1);
      const r = 2 + (trial % 12);
      const word = new Uint8Array([...m, ...rsParity(m, r)]);
      const bad = word.slice();
      const count = Math.floor(r / 2);
      const positions = new Set<number>();
      const noise = random(count * 2, trial + 99);
      for (let e = 0; positions.size < count; e++)
        positions.add(((noise[e] as number) * 7 + e * 13) % word.length);
      let e = 0;
      for (const p of positions)
        bad[p] = (bad[p] as number) ^ (((noise[e++] as number) | 1) & 0xff);
      const found = decodeCodeword(bad, r);
      expect(found).not.toBeNull();
      for (const { position, magnitude } of found ?? [])
        bad[position] = (bad[position] as number) ^ magnitude;
      expect(bad).toEqual(word);
    }
  });

  it("refuses codewords over 255 symbols", () => {
    expect(() => rsParity(new Uint8Array(250), 10)).toThrow(RangeError);
  });
});

describe("addReedSolomon", () => {
  it("survives two wiped 512-byte rows and reports them", () => {
    const data = 25000;
    const redundancy = 62 * 512 - data - 1024;
    const buf = new Uint8Array(62 * 512);
    buf.set(random(data, 5), 1024);
    addReedSolomon(buf, 1024, data, redundancy);
    expect(checkReedSolomon(buf, 1024, data, redundancy).intact).toBe(true);
    const good = buf.slice();
    buf.fill(0xaa, 1024 + 512 * 7, 1024 + 512 * 9);
    const check = checkReedSolomon(buf, 1024, data, redundancy);
    expect(check.intact).toBe(false);
    expect(buf.subarray(1024 + 512 * 7, 1024 + 512 * 9).every((b) => b === 0xaa)).toBe(true);
    const fixed = repairReedSolomon(buf, 1024, data, redundancy);
    expect(fixed.uncorrectableCodewords).toBe(0);
    expect(buf).toEqual(good);
  });

  it("splits codewords longer than 200 rows into blocks", () => {
    const data = 150000;
    const redundancy = 155000;
    const buf = new Uint8Array(data + redundancy);
    buf.set(random(data, 8));
    addReedSolomon(buf, 0, data, redundancy);
    expect(checkReedSolomon(buf, 0, data, redundancy).intact).toBe(true);
    buf[12345] = (buf[12345] as number) ^ 1;
    const report = checkReedSolomon(buf, 0, data, redundancy);
    expect(report.errorOffsets).toEqual([12345]);
  });

  it("rejects ranges outside the buffer", () => {
    expect(() => addReedSolomon(new Uint8Array(10), 0, 8, 8)).toThrow(RangeError);
  });
});
