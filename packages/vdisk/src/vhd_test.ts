import { describe, expect, it } from "vitest";
import { ascii, viewOf } from "./_bytes.ts";
import { readBack, rng, testBytes, toMemory } from "./_test_tools.ts";
import { vhdChecksum, vhdGeometry } from "./_vhd_format.ts";
import { MemorySink } from "./image_sink.ts";
import { FixedVhdPlacement, writeVhd } from "./vhd_writer.ts";

function sample(size: number, seed: number): Uint8Array {
  const random = rng(seed);
  const raw = new Uint8Array(size);
  for (let i = 0; i < 6; i++) {
    const length = 1 + Math.floor(random() * 20_000);
    const at = Math.floor(random() * (size - length));
    raw.set(testBytes(random, length), at);
  }
  raw[size - 1] = 9;
  return raw;
}

function padded(raw: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(raw);
  return out;
}

describe("FixedVhdPlacement", () => {
  it("gives ranges back unchanged and makes the file writeVhd makes (same id and time)", async () => {
    const raw = sample(5 * (1 << 20) + 1234, 4);
    const options = {
      timestamp: new Date("2026-01-01T00:00:00Z"),
      uuid: new Uint8Array(16).fill(3),
    };
    const expected = await toMemory(raw, "vhd-fixed", options);
    const placement = new FixedVhdPlacement(raw.length, options);
    const sink = new MemorySink();
    // Written by position in pieces, out of order, as a build writes a raw disk.
    for (const at of [3 << 20, 0, 1 << 20, 4 << 20, 2 << 20, 5 << 20]) {
      const piece = raw.subarray(at, Math.min(raw.length, at + (1 << 20)));
      const [position, length] = placement.place(at, piece.length);
      expect([position, length]).toEqual([at, piece.length]);
      await sink.write(position as number, piece);
    }
    const result = await placement.finish(sink);
    expect(result).toEqual({
      fileSize: (6 << 20) + 512,
      virtualSize: 6 << 20,
      dataBytes: raw.length,
    });
    expect(Buffer.compare(sink.bytes(), expected)).toBe(0);
  });

  it("refuses what is outside the disk, an empty disk, a second finish", async () => {
    const placement = new FixedVhdPlacement(1000, { alignment: 512 });
    expect(placement.size).toBe(1024);
    expect(() => placement.place(1000, 25)).toThrow(
      /^Cannot place 25 bytes at 1000 of a VHD of 1024 bytes$/,
    );
    expect(() => new FixedVhdPlacement(0)).toThrow(/fixed VHD of 0 bytes/);
    expect(() => new FixedVhdPlacement(4096, { alignment: 1000 })).toThrow(/multiple of 512/);
    await placement.finish(new MemorySink());
    await expect(placement.finish(new MemorySink())).rejects.toThrow(/twice/);
    expect(() => placement.place(0, 1)).toThrow(/after finish/);
  });
});

describe("VHD", () => {
  it("fixed: raw bytes, 1 MiB aligned, then a footer as Azure documents it", async () => {
    const raw = sample(5 * (1 << 20) + 1234, 1);
    const file = await toMemory(raw, "vhd-fixed", { timestamp: new Date("2026-01-01T00:00:00Z") });
    const size = 6 << 20;
    expect(file.length).toBe(size + 512);
    const footer = file.subarray(size);
    const f = viewOf(footer);
    expect(ascii(footer.subarray(0, 8))).toBe("conectix");
    expect(f.getUint32(8)).toBe(2);
    expect(f.getUint32(12)).toBe(0x00010000);
    expect(f.getBigUint64(16)).toBe(0xffffffffffffffffn);
    expect(f.getUint32(24)).toBe(1767225600 - 946684800);
    expect(Number(f.getBigUint64(40))).toBe(size);
    expect(Number(f.getBigUint64(48))).toBe(size);
    expect(f.getUint32(60)).toBe(2);
    expect(f.getUint32(64)).toBe(vhdChecksum(footer, 64));
    expect(Buffer.from(file.subarray(0, raw.length)).equals(raw)).toBe(true);
    expect(Buffer.from(await readBack(file)).equals(padded(raw, size))).toBe(true);
  });

  it("fixed streams to a pipe", async () => {
    const raw = sample(2 << 20, 2);
    const sink = new MemorySink({ seekable: false });
    await writeVhd(
      { size: raw.length, data: [raw] as unknown as AsyncIterable<Uint8Array> },
      sink,
      {
        type: "fixed",
      },
    );
    expect(sink.bytes().length).toBe((2 << 20) + 512);
  });

  it("dynamic: round-trips, blocks of zeros unallocated", async () => {
    const raw = new Uint8Array(9 * (1 << 20) + 512);
    raw.set(testBytes(rng(3), 5000), 3 << 20);
    raw[raw.length - 1] = 1;
    const file = await toMemory(raw, "vhd");
    expect(file.length).toBeLessThan(3 * (2 << 20) + 64 * 1024);
    expect(Buffer.from(await readBack(file)).equals(raw)).toBe(true);
    await expect(
      writeVhd(
        { size: 512, data: [new Uint8Array(512)] as unknown as AsyncIterable<Uint8Array> },
        new MemorySink({ seekable: false }),
      ),
    ).rejects.toThrow(/-o FILE/);
  });

  it("computes the spec's CHS geometry", () => {
    expect(vhdGeometry(4141875200)).toEqual({ cylinders: 8025, heads: 16, sectors: 63 });
    expect(vhdGeometry(10 << 20)).toEqual({ cylinders: 301, heads: 4, sectors: 17 });
    expect(vhdGeometry(2 ** 41)).toEqual({ cylinders: 65535, heads: 16, sectors: 255 });
  });
});
