import { MemoryDevice } from "@bigfile/blockdev";
import { describe, expect, it } from "vitest";
import { ascii, viewOf } from "./_bytes.ts";
import { readBack, rng, testBytes, toMemory } from "./_test_tools.ts";
import { MemorySink } from "./image_sink.ts";
import { openImage } from "./open_image.ts";
import { VmdkDevice } from "./vmdk_device.ts";
import { writeVmdk } from "./vmdk_writer.ts";

function sample(size: number, seed: number): Uint8Array {
  const random = rng(seed);
  const raw = new Uint8Array(size);
  for (let i = 0; i < 8; i++) {
    const length = 1 + Math.floor(random() * 30_000);
    const at = Math.floor(random() * (size - length));
    raw.set(testBytes(random, length), at);
  }
  raw[size - 1] = 5;
  return raw;
}

describe("VMDK", () => {
  for (const format of ["vmdk", "vmdk-stream"] as const) {
    it(`${format}: round-trips across grain tables, zero grains unallocated`, async () => {
      // 70 MiB + a partial sector: three grain tables, the last one partial.
      const raw = sample(70 * (1 << 20) + 1000, format.length);
      const file = await toMemory(raw, format);
      const back = await readBack(file);
      expect(back.length).toBe(Math.ceil(raw.length / 512) * 512);
      expect(Buffer.from(back.subarray(0, raw.length)).equals(raw)).toBe(true);
      expect(file.length).toBeLessThan(2 << 20);
      const device = await VmdkDevice.open(new MemoryDevice(file));
      expect(device.format).toBe(format);
      expect(device.createType).toBe(format === "vmdk" ? "monolithicSparse" : "streamOptimized");
    });
  }

  it("streamOptimized: header says the directory is at the end; footer and end-of-stream follow", async () => {
    const raw = sample(1 << 20, 7);
    const sink = new MemorySink({ seekable: false });
    await writeVmdk(
      { size: raw.length, data: [raw] as unknown as AsyncIterable<Uint8Array> },
      sink,
      {
        subformat: "streamOptimized",
        extentName: "x.vmdk",
      },
    );
    const file = sink.bytes();
    const h = viewOf(file);
    expect(ascii(file.subarray(0, 4))).toBe("KDMV");
    expect(h.getUint32(4, true)).toBe(3);
    expect(h.getUint32(8, true)).toBe(0x30001);
    expect(h.getBigUint64(56, true)).toBe(0xffffffffffffffffn);
    expect(ascii(file.subarray(512, 1024))).toMatch(
      /createType="streamOptimized"[\s\S]*RW 2048 SPARSE "x.vmdk"/,
    );
    const end = file.length;
    expect(h.getUint32(end - 1536 + 12, true)).toBe(3); // footer marker
    expect(ascii(file.subarray(end - 1024, end - 1020))).toBe("KDMV");
    expect(file.subarray(end - 512).every((b) => b === 0)).toBe(true); // end of stream
  });

  it("a descriptor file whose extents are elsewhere is refused clearly", async () => {
    const text = new TextEncoder().encode(
      '# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 2048 FLAT "x-flat.vmdk" 0\n',
    );
    const file = new Uint8Array(1024);
    file.set(text);
    await expect(openImage(new MemoryDevice(file))).rejects.toThrow(/extents are other files/);
  });

  it("monolithicSparse refuses a stream", async () => {
    await expect(
      writeVmdk(
        { size: 512, data: [new Uint8Array(512)] as unknown as AsyncIterable<Uint8Array> },
        new MemorySink({ seekable: false }),
      ),
    ).rejects.toThrow(/-o FILE/);
  });
});
