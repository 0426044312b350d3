// Hostile input: valid images of every format with mutated headers, tables and markers. Each
// must open and read cleanly or fail with one ImageFormatError: no other exception, no hang,
// no huge allocation.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isZero, MemoryDevice } from "@bigfile/blockdev";
import { afterAll, describe, expect, it } from "vitest";
import { describeWithTools } from "../../../test/harness/tools.ts";
import { qemuImg, rng, scratchDir, testBytes, toMemory } from "./_test_tools.ts";
import { ImageFormatError } from "./errors.ts";
import type { ImageFormat } from "./image_device.ts";
import { openImage } from "./open_image.ts";
import type { WriteImageOptions } from "./write_image.ts";

const SOURCES: { format: ImageFormat; options?: WriteImageOptions }[] = [
  { format: "qcow2", options: { clusterSize: 4096 } },
  { format: "qcow2", options: { clusterSize: 512, compress: true } },
  { format: "qcow2", options: { compress: true } },
  { format: "vhd" },
  { format: "vhd-fixed" },
  { format: "vmdk" },
  { format: "vmdk-stream" },
];

function raw(): Uint8Array {
  const random = rng(42);
  const bytes = new Uint8Array(3 << 20);
  bytes.set(testBytes(random, 70_000), 0);
  bytes.set(testBytes(random, 9000), 2 << 20);
  bytes.set(testBytes(random, 1000), (3 << 20) - 1000);
  return bytes;
}

/** Where the metadata of an image file lies: the head, and the tail (footers, tables at the end). */
function metadataRegions(file: Uint8Array): [number, number][] {
  const head = Math.min(file.length, 8192);
  const tail = Math.max(head, file.length - 128 * 1024);
  return [
    [0, head],
    [tail, file.length],
  ];
}

function mutate(file: Uint8Array, random: () => number): Uint8Array {
  const out = file.slice();
  const regions = metadataRegions(out);
  const mutations = 1 + Math.floor(random() * 4);
  for (let m = 0; m < mutations; m++) {
    const [from, to] = regions[Math.floor(random() * regions.length)] as [number, number];
    const at = from + Math.floor(random() * (to - from));
    const kind = random();
    if (kind < 0.4) {
      out[at] = (out[at] as number) ^ (1 << Math.floor(random() * 8));
    } else if (kind < 0.6) {
      out[at] = Math.floor(random() * 256);
    } else {
      // A whole 4- or 8-byte field set to an extreme.
      const width = random() < 0.5 ? 4 : 8;
      const start = Math.max(0, Math.min(out.length - width, at - (at % width)));
      const value = [0x00, 0xff, 0x7f, 0x80][Math.floor(random() * 4)] as number;
      out.fill(value, start, start + width);
      if (random() < 0.5) out[start + (random() < 0.5 ? 0 : width - 1)] = 1;
    }
  }
  return out;
}

async function exercise(file: Uint8Array, random: () => number): Promise<void> {
  const device = await openImage(new MemoryDevice(file, { readOnly: true }));
  const span = Math.min(device.size, 4 << 20);
  if (span > 0) {
    const disk = await device.read(0, span);
    // Where hostRanges says the bytes are, they are (inside the file); zero pieces read as zeros.
    const wrong = (await device.hostRanges(0, span)).find((piece) => {
      const bytes = disk.subarray(piece.offset, piece.offset + piece.length);
      if (piece.kind === "zero") return !isZero(bytes);
      if (piece.kind === "read") return false;
      const stored = file.subarray(piece.host, piece.host + piece.length);
      return stored.length !== bytes.length || Buffer.compare(bytes, stored) !== 0;
    });
    expect(wrong).toBeUndefined();
  }
  for (let i = 0; i < 8 && device.size > 0; i++) {
    const at = Math.floor(random() * device.size);
    await device.read(at, Math.min(4096, device.size - at));
  }
  await device.info();
}

describe("readers treat every image as hostile", () => {
  for (const source of SOURCES) {
    it(`${source.format} ${JSON.stringify(source.options ?? {})}: 300 mutated images`, async () => {
      const valid = await toMemory(raw(), source.format, source.options ?? {});
      const random = rng(source.format.length * 1000 + (source.options?.clusterSize ?? 0));
      let rejected = 0;
      for (let i = 0; i < 300; i++) {
        const file = mutate(valid, random);
        try {
          await exercise(file, random);
        } catch (error) {
          if (!(error instanceof ImageFormatError)) {
            throw new Error(`mutation ${i} of ${source.format}: ${(error as Error).stack}`);
          }
          expect(error.message).not.toMatch(/\n/);
          rejected++;
        }
      }
      expect(rejected).toBeGreaterThan(0);
    }, 120_000);
  }

  const FIELDS: Record<string, (file: Uint8Array) => number[]> = {
    qcow2: () => [4, 8, 16, 20, 24, 32, 36, 40, 48, 56, 60, 64, 72, 80, 88, 96, 100, 104],
    vhd: (f) => [
      ...[8, 12, 16, 24, 28, 32, 36, 40, 48, 56, 60, 64].map((o) => f.length - 512 + o),
      ...[0, 8, 16, 24, 28, 32, 36].map((o) => 512 + o),
      1536,
      1540,
    ],
    "vhd-fixed": (f) =>
      [8, 12, 16, 24, 28, 32, 36, 40, 48, 56, 60, 64].map((o) => f.length - 512 + o),
    vmdk: () => [4, 8, 12, 20, 28, 36, 44, 48, 56, 64, 77, 21 * 512, 25 * 512],
    "vmdk-stream": (f) => [
      ...[4, 8, 12, 20, 28, 36, 44, 48, 56, 64, 77].map((o) => f.length - 1024 + o),
      f.length - 1536,
      f.length - 1536 + 12,
      128 * 512,
      128 * 512 + 8,
    ],
  };

  for (const source of SOURCES) {
    it(`${source.format} ${JSON.stringify(source.options ?? {})}: every header field at its extremes`, async () => {
      const valid = await toMemory(raw(), source.format, source.options ?? {});
      const offsets = (FIELDS[source.format] as (f: Uint8Array) => number[])(valid);
      for (const at of offsets) {
        for (const width of [1, 4, 8]) {
          for (const value of [0x00, 0xff, 0x7f, 0x01]) {
            const file = valid.slice();
            file.fill(value, at, Math.min(file.length, at + width));
            try {
              await exercise(file, rng(at));
            } catch (error) {
              if (!(error instanceof ImageFormatError)) {
                throw new Error(
                  `${source.format} field at ${at} = ${value}x${width}: ${(error as Error).stack}`,
                );
              }
            }
          }
        }
      }
    }, 120_000);
  }

  it("truncated images fail cleanly", async () => {
    for (const source of SOURCES) {
      const valid = await toMemory(raw(), source.format, source.options ?? {});
      for (const length of [0, 1, 100, 511, 512, 1024, 4096, valid.length >> 1, valid.length - 1]) {
        try {
          await exercise(valid.subarray(0, length), rng(length));
        } catch (error) {
          if (!(error instanceof ImageFormatError)) {
            throw new Error(`${source.format} cut at ${length}: ${(error as Error).stack}`);
          }
        }
      }
    }
  });
});

describeWithTools(["qemu-img"], "readers treat QEMU's layouts as hostile too", () => {
  const { dir, cleanup } = scratchDir("vdisk-fuzz-");
  afterAll(cleanup);
  const QEMU: [string, string[]][] = [
    ["qcow2", []],
    ["qcow2", ["-c", "-o", "cluster_size=4096"]],
    ["vpc", ["-o", "subformat=dynamic"]],
    ["vmdk", ["-o", "subformat=monolithicSparse"]],
    ["vmdk", ["-o", "subformat=streamOptimized"]],
  ];
  for (const [format, options] of QEMU) {
    it(`qemu-img ${format} ${options.join(" ")}: 200 mutated images`, async () => {
      const rawPath = join(dir, "raw");
      writeFileSync(rawPath, raw());
      const out = join(dir, `${format}.img`);
      const made = await qemuImg("convert", "-f", "raw", "-O", format, ...options, rawPath, out);
      expect(made.exitCode, made.stderr).toBe(0);
      const valid = new Uint8Array(readFileSync(out));
      await exercise(valid, rng(1));
      const random = rng(format.length * 77 + options.length);
      for (let i = 0; i < 200; i++) {
        try {
          await exercise(mutate(valid, random), random);
        } catch (error) {
          if (!(error instanceof ImageFormatError)) {
            throw new Error(`mutation ${i} of qemu's ${format}: ${(error as Error).stack}`);
          }
        }
      }
    }, 120_000);
  }
});
