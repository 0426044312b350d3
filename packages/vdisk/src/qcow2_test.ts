import { MemoryDevice } from "@bigfile/blockdev";
import { describe, expect, it } from "vitest";
import { readBack, rng, sameDisk, testBytes, toMemory } from "./_test_tools.ts";
import { MemorySink } from "./image_sink.ts";
import { Qcow2Device } from "./qcow2_device.ts";
import { writeQcow2 } from "./qcow2_writer.ts";

function sample(size: number, seed: number): Uint8Array {
  const random = rng(seed);
  const raw = new Uint8Array(size);
  for (let i = 0; i < 12; i++) {
    const length = 1 + Math.floor(random() * 20_000);
    const at = Math.floor(random() * (size - length));
    raw.set(testBytes(random, length), at);
  }
  raw[0] = 1;
  raw[size - 1] = 2;
  return raw;
}

describe("qcow2 writer and reader", () => {
  for (const clusterSize of [512, 4096, 65536, 2 << 20]) {
    for (const compress of [false, true]) {
      it(`round-trips with ${clusterSize}-byte clusters${compress ? ", compressed" : ""}`, async () => {
        const raw = sample(3 * (1 << 20) + 777, clusterSize + (compress ? 1 : 0));
        const file = await toMemory(raw, "qcow2", { clusterSize, compress });
        expect(sameDisk(await readBack(file), raw)).toBe(true);
        if (!compress) expect(file.length).toBeLessThan(raw.length + 8 * clusterSize);
      });
    }
  }

  it("leaves zero clusters unallocated and writes nothing for an empty disk", async () => {
    const file = await toMemory(new Uint8Array(10 << 20), "qcow2");
    const device = await Qcow2Device.open(new MemoryDevice(file));
    const info = await device.info();
    expect(info.allocatedBytes).toBe(0);
    expect(file.length).toBeLessThanOrEqual(4 * 65536);
  });

  it("handles a zero-byte disk (no L1 table)", async () => {
    const file = await toMemory(new Uint8Array(0), "qcow2");
    const device = await Qcow2Device.open(new MemoryDevice(file));
    expect(device.size).toBe(0);
  });

  it("refuses a non-seekable sink and bad cluster sizes", async () => {
    const image = {
      size: 512,
      data: [new Uint8Array(512)] as unknown as AsyncIterable<Uint8Array>,
    };
    await expect(writeQcow2(image, new MemorySink({ seekable: false }))).rejects.toThrow(/-o FILE/);
    await expect(writeQcow2(image, new MemorySink(), { clusterSize: 1000 })).rejects.toThrow(
      RangeError,
    );
  });

  it("refuses a source shorter than announced", async () => {
    const image = {
      size: 4096,
      data: (async function* () {
        yield new Uint8Array(100);
      })(),
    };
    await expect(writeQcow2(image, new MemorySink())).rejects.toThrow(/ended at 100 bytes/);
  });
});

describe("qcow2 edge sizes", () => {
  it("rounds a partial last sector up, as QEMU counts whole sectors", async () => {
    const raw = new Uint8Array(1000).fill(3);
    const device = await Qcow2Device.open(new MemoryDevice(await toMemory(raw, "qcow2")));
    expect(device.size).toBe(1024);
    expect(sameDisk(await device.read(0, 1024), raw)).toBe(true);
  });
});
