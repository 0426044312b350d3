// The Packer groups the emitted stream into few chunks: small pieces packed
// together, holes (the copier's blocks) as views of blockdev's zero buffer.
import { zeros } from "@bigfile/blockdev";
import { describe, expect, it } from "vitest";
import { Packer } from "./_packer.ts";

const SHARED = zeros(1).buffer;
const MiB = 1 << 20;

describe("Packer", () => {
  it("lets consecutive holes grow into one chunk per mebibyte", () => {
    const packer = new Packer(true);
    packer.push(new Uint8Array(4096).fill(1));
    for (let i = 0; i < 1000; i++) packer.hole(3 * 4096);
    packer.take(4096).fill(2);
    packer.flush();
    const out = packer.out.splice(0);
    const holes = out.filter((c) => c.buffer === SHARED);
    expect(out.length).toBe(2 + holes.length);
    // 1000 holes of 12 KiB: 11.7 MiB in 12 chunks, not 1000.
    expect(holes.map((c) => c.length)).toEqual([
      ...Array(11).fill(MiB),
      1000 * 3 * 4096 - 11 * MiB,
    ]);
    expect(out[0]?.[0]).toBe(1);
    expect(out.at(-1)?.[0]).toBe(2);
  });

  it("keeps a hole apart from zeros written as bytes after data", () => {
    const packer = new Packer();
    packer.take(10).fill(3);
    packer.hole(4096);
    packer.zero(100);
    packer.push(Uint8Array.of(4));
    packer.flush();
    const out = packer.out.splice(0);
    expect(out.map((c) => [c.buffer === SHARED, c.length])).toEqual([
      [false, 10],
      [true, 4196],
      [false, 1],
    ]);
  });
});
