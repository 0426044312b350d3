import { describe, expect, it } from "vitest";
import { DeviceRangeError } from "./block_device.ts";
import { MemoryDevice } from "./memory_device.ts";
import { SliceDevice } from "./slice_device.ts";

describe("SliceDevice", () => {
  it("maps reads and writes into the parent at its offset", async () => {
    const disk = new MemoryDevice(new Uint8Array(4096));
    const part = new SliceDevice(disk, { offset: 1024, length: 2048 });
    expect(part.size).toBe(2048);
    await part.write(0, new Uint8Array([1, 2, 3]));
    expect([...disk.bytes.subarray(1023, 1027)]).toEqual([0, 1, 2, 3]);
    expect([...(await part.read(1, 2))]).toEqual([2, 3]);
  });

  it("refuses out-of-range access with a clear error and the offset", async () => {
    const disk = new MemoryDevice(new Uint8Array(4096));
    const part = new SliceDevice(disk, { offset: 1024, length: 2048 });
    await expect(part.read(2047, 2)).rejects.toThrow(DeviceRangeError);
    await expect(part.read(2047, 2)).rejects.toThrow(
      "Cannot read 2 bytes at offset 2047: the device holds 2048 bytes (last byte 2047)",
    );
    await expect(part.write(-1, new Uint8Array(1))).rejects.toMatchObject({ offset: -1 });
    expect(disk.bytes.every((b) => b === 0)).toBe(true);
  });

  it("refuses a window larger than its parent", () => {
    const disk = new MemoryDevice(new Uint8Array(4096));
    expect(() => new SliceDevice(disk, { offset: 4000, length: 200 })).toThrow(
      /Cannot make a slice of 200 bytes at offset 4000: the device holds 4096 bytes, 96 from that offset/,
    );
    expect(() => new SliceDevice(disk, { offset: 5000 })).toThrow(RangeError);
    expect(new SliceDevice(disk, { offset: 4000 }).size).toBe(96);
  });

  it("nests: a slice of a slice", async () => {
    const disk = new MemoryDevice(new Uint8Array(4096));
    const inner = new SliceDevice(new SliceDevice(disk, { offset: 512 }), {
      offset: 512,
      length: 512,
    });
    await inner.write(511, new Uint8Array([9]));
    expect(disk.bytes[1535]).toBe(9);
    await expect(inner.write(512, new Uint8Array([9]))).rejects.toThrow(DeviceRangeError);
  });
});
