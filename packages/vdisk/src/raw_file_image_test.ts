import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { hasNativeDataRegions, hasNativeFileRanges } from "@bigfile/blockdev/node";
import { afterAll, describe, expect, test } from "vitest";
import { readBack, sameDisk, scatteredImage, scratchDir } from "./_test_tools.ts";
import { writeImageFile } from "./file_sink.ts";
import type { ImageFormat } from "./image_device.ts";
import { MemorySink } from "./image_sink.ts";
import { rawFileImage } from "./raw_file_image.ts";
import { writeImage } from "./write_image.ts";

const { dir, cleanup } = scratchDir("vdisk-raw-file-");
afterAll(cleanup);

// Scattered data, plus 256 KiB the file has allocated that hold zeros (the
// kernel reports them as data, the zero scan does not).
const SIZE = 48 * (1 << 20) + 512;
const raw = scatteredImage(join(dir, "disk.raw"), SIZE, 12, 7);
const fd = openSync(raw, "r+");
writeSync(fd, new Uint8Array(256 << 10), 0, 256 << 10, 30 << 20);
closeSync(fd);
const rawBytes = new Uint8Array(readFileSync(raw));

const FORMATS: ImageFormat[] = ["raw", "qcow2", "vhd", "vhd-fixed", "vmdk", "vmdk-stream"];

describe("rawFileImage: the kernel's holes (SEEK_DATA) and the zero scan give the same image", () => {
  test("the native addon is there in CI (otherwise both sides below are the zero scan)", () => {
    if (process.env.CI) expect(hasNativeDataRegions()).toBe(true);
    else if (!hasNativeDataRegions()) {
      console.warn(
        "vdisk: blockdev's native addon is not built: both sides compare the zero scan (install gcc, Debian package gcc, and rebuild blockdev)",
      );
    }
  });

  for (const format of FORMATS) {
    test(`${format} to a file: the same bytes`, async () => {
      const files = [];
      for (const seekData of [true, false]) {
        const out = join(dir, `${format}-${seekData}`);
        await writeImageFile(out, (sink) =>
          writeImage(rawFileImage(raw, { seekData }), format, sink, {
            timestamp: new Date(0),
            uuid: new Uint8Array(16),
            cid: 1,
          }),
        );
        files.push(readFileSync(out));
      }
      // qcow2 copied file to file has its tables first (planned from the
      // runs), read and written it has them after the data: the same disk.
      if (format !== "qcow2" || !hasNativeFileRanges()) {
        expect(Buffer.compare(files[0] as Buffer, files[1] as Buffer)).toBe(0);
      }
      for (const file of files) {
        expect(
          sameDisk(format === "raw" ? (file as Buffer) : await readBack(file as Buffer), rawBytes),
        ).toBe(true);
      }
    });
  }

  for (const format of ["qcow2", "vhd", "vmdk"] as const) {
    test(`${format} to a pipe (tables planned from the runs): both read back as the raw disk`, async () => {
      for (const seekData of [true, false]) {
        const image = rawFileImage(raw, { seekData });
        // Kernel regions may hold zeros (a run may); never less than the data.
        expect(image.dataRuns).toBeDefined();
        const sink = new MemorySink({ seekable: false });
        await writeImage(image, format, sink);
        expect(sameDisk(await readBack(sink.bytes()), rawBytes)).toBe(true);
      }
    });
  }

  test("natively, zeros are looked for in the units asked for, and the data is copied file to file", async () => {
    if (!hasNativeFileRanges()) return; // the test above says why
    const regions = rawFileImage(raw, { zeroUnit: 0 }).dataRuns as number[];
    for (const unit of [4096, 65536, 2 << 20]) {
      const image = rawFileImage(raw, { zeroUnit: unit });
      const runs = image.dataRuns as number[];
      // Every run lies inside a kernel region, and starts and ends on units (or the regions' edges).
      for (let i = 0; i < runs.length; i += 2) {
        const start = runs[i] as number;
        const end = start + (runs[i + 1] as number);
        let inside = false;
        for (let j = 0; j < regions.length; j += 2) {
          const r = regions[j] as number;
          if (r <= start && end <= r + (regions[j + 1] as number)) inside = true;
        }
        expect(inside).toBe(true);
      }
      // The 256 KiB of allocated zeros: no unit wholly inside them is data.
      const zerosFrom = 30 << 20;
      const zerosTo = zerosFrom + (256 << 10);
      for (let i = 0; i < runs.length; i += 2) {
        const start = runs[i] as number;
        const end = start + (runs[i + 1] as number);
        for (let u = Math.ceil(zerosFrom / unit) * unit; u + unit <= zerosTo; u += unit) {
          expect(end <= u || start >= u + unit).toBe(true);
        }
      }
      let copied = 0;
      const out = join(dir, `copied-${unit}.qcow2`);
      await writeImageFile(out, (sink) => {
        const copy = image.copierFor?.(sink);
        expect(copy).toBeDefined();
        const counting: typeof image = {
          ...image,
          copierFor: () => async (ranges) => {
            for (let i = 2; i < ranges.length; i += 3) copied += ranges[i] as number;
            await copy?.(ranges);
          },
          data: (async function* () {
            yield* [];
            throw new Error("the data was read: it should have been copied");
          })(),
        };
        return writeImage(counting, "qcow2", sink, { clusterSize: Math.max(unit, 65536) });
      });
      expect(sameDisk(await readBack(readFileSync(out)), rawBytes)).toBe(true);
      // Only the data runs were copied.
      expect(copied).toBe(runs.reduce((sum, n, i) => (i % 2 ? sum + n : sum), 0));
    }
  });

  test("the runs the kernel gives cover every non-zero byte", () => {
    const runs = rawFileImage(raw).dataRuns as number[];
    const covered = new Uint8Array(SIZE);
    for (let i = 0; i < runs.length; i += 2) {
      covered.fill(1, runs[i] as number, (runs[i] as number) + (runs[i + 1] as number));
    }
    for (let at = 0; at < SIZE; at++) {
      if (rawBytes[at] !== 0 && !covered[at])
        throw new Error(`byte ${at} is data outside the runs`);
    }
  });
});
