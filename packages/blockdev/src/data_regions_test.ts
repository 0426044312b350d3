import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { collectBytes } from "./collect_bytes.ts";
import { dataRegions, hasNativeDataRegions } from "./data_regions.ts";
import { findDataRuns } from "./data_runs.ts";
import { readFile } from "./file_source.ts";
import { zeros } from "./zeros.ts";

const dir = mkdtempSync(join(tmpdir(), "blockdev-data-regions-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The addon is built by `pnpm build` (the repository's scripts/build-native.mjs) with the
// system C compiler. CI installs gcc (test/scripts/setup-system-deps.sh), so
// there its absence is a failure; elsewhere the kernel-path tests say why they
// do not run.
const native = hasNativeDataRegions();
if (!native && !process.env.CI && process.env.BIGFILE_NO_NATIVE !== "1") {
  console.warn(
    "blockdev: NATIVE ADDON NOT BUILT — the SEEK_DATA tests are skipped: install gcc (Debian package gcc) and run pnpm --filter @bigfile/blockdev build",
  );
}

/** A sparse file of `size` bytes with `parts` ([offset, bytes]) written in it. */
function sparseFile(name: string, size: number, parts: [number, Uint8Array][]): string {
  const path = join(dir, name);
  const fd = openSync(path, "w");
  try {
    for (const [offset, bytes] of parts) writeSync(fd, bytes, 0, bytes.length, offset);
    ftruncateSync(fd, size); // the size, without allocating what was not written
  } finally {
    closeSync(fd);
  }
  return path;
}

function filled(length: number, value: number): Uint8Array {
  return new Uint8Array(length).fill(value);
}

const MiB = 1 << 20;
const SIZE = 300 * MiB;
/** Data at odd places: a unit straddling 4 KiB blocks, allocated zeros, the very end. */
const PARTS: [number, Uint8Array][] = [
  [0, filled(512, 0xeb)],
  [32256 + 1000, filled(3000, 1)],
  [5 * MiB, new Uint8Array(64 << 10)], // allocated, but zeros: no run
  [5 * MiB + (70 << 10), filled(1, 7)],
  [100 * MiB - 1, filled(2, 9)],
  [SIZE - 1024 - 3, filled(1027, 5)],
];

describe("dataRegions", () => {
  test.runIf(native || process.env.CI)("the kernel names the allocated blocks only", () => {
    expect(native).toBe(true);
    const path = sparseFile("regions.img", SIZE, PARTS);
    const fd = openSync(path, "r");
    try {
      const regions = dataRegions(fd, 0, SIZE) as number[];
      expect(regions).toBeDefined();
      const bytes = regions.filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0);
      // Every part is inside a region, and the regions are a small part of the file.
      for (const [offset, data] of PARTS) {
        const inside = regions.some(
          (start, i) =>
            i % 2 === 0 &&
            start <= offset &&
            offset + data.length <= start + (regions[i + 1] as number),
        );
        expect(inside, `part at ${offset}`).toBe(true);
      }
      expect(bytes).toBeLessThan(2 * MiB);
      // Clipped to the range asked for; nothing past the end.
      expect(dataRegions(fd, 1 * MiB, 4 * MiB)).toEqual([]);
      const tail = dataRegions(fd, SIZE - 10, SIZE + 4096) as number[];
      expect(tail).toEqual([SIZE - 10, 10]);
      expect(() => dataRegions(fd, -1, 10)).toThrow(TypeError);
    } finally {
      closeSync(fd);
    }
  });

  test("a pipe has no regions: undefined, the caller reads instead", () => {
    const fd = openSync("/dev/null", "r");
    try {
      // /dev/null is a character device: lseek succeeds or fails, never a wrong answer.
      const regions = dataRegions(fd, 0, 4096);
      expect(regions === undefined || Array.isArray(regions)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  test("BIGFILE_NO_NATIVE=1 turns the kernel path off", () => {
    const saved = process.env.BIGFILE_NO_NATIVE;
    process.env.BIGFILE_NO_NATIVE = "1";
    try {
      expect(hasNativeDataRegions()).toBe(false);
      const fd = openSync(sparseFile("off.img", MiB, [[0, filled(1, 1)]]), "r");
      try {
        expect(dataRegions(fd, 0, MiB)).toBeUndefined();
      } finally {
        closeSync(fd);
      }
    } finally {
      if (saved === undefined) delete process.env.BIGFILE_NO_NATIVE;
      else process.env.BIGFILE_NO_NATIVE = saved;
    }
  });
});

describe("findDataRuns: the kernel's answer and the full read agree", () => {
  const path = sparseFile("runs.img", SIZE, PARTS);
  const regions: [string, { offset?: number; size: number }][] = [
    ["the whole file", { size: SIZE }],
    ["the seed's partition offset", { offset: 32256, size: SIZE - 32256 }],
    ["an odd window", { offset: 1000, size: 100 * MiB }],
    ["a window of holes", { offset: 6 * MiB, size: 90 * MiB }],
  ];
  for (const [what, region] of regions) {
    test(what, () => {
      // In CI the addon must be there, or both sides would be the same read.
      if (process.env.CI) expect(hasNativeDataRegions()).toBe(true);
      const read = findDataRuns(path, { ...region, seekData: false });
      const seek = findDataRuns(path, { ...region, allocated: 3 * MiB });
      expect(seek).toEqual(read);
    });
  }

  test("the runs are where the data is", () => {
    // [start, count] in 1 KiB units: the boot sector; 33256..36256 (units 32
    // to 35); one byte at 5 MiB + 70 KiB (the allocated zeros before it are
    // no run); two bytes across 100 MiB; the last 1027 bytes (two units).
    const units = [0, 1, 32, 4, 5 * 1024 + 70, 1, 100 * 1024 - 1, 2, SIZE / 1024 - 2, 2];
    expect(findDataRuns(path, { size: SIZE })).toEqual(units);
    expect(findDataRuns(path, { size: SIZE, seekData: false })).toEqual(units);
  });

  test("a file shorter than the region is an error on both paths", () => {
    const short = sparseFile("short.img", MiB, [[0, filled(1, 1)]]);
    for (const seekData of [true, false]) {
      expect(() => findDataRuns(short, { size: 2 * MiB, seekData })).toThrow(/ended at/);
    }
  });
});

describe("readFile with seekData: the holes come as shared zeros, the bytes are the same", () => {
  const path = sparseFile("read.img", 40 * MiB, [
    [4096, filled(5000, 3)],
    [20 * MiB + 17, filled(70000, 4)],
    [40 * MiB - 2, filled(2, 5)],
  ]);
  const windows: [string, { offset?: number; length?: number }][] = [
    ["the whole file", {}],
    ["a window from an odd offset", { offset: 32256, length: 21 * MiB }],
    ["past the end", { offset: 39 * MiB, length: 5 * MiB }],
  ];
  for (const [what, window] of windows) {
    test(what, async () => {
      if (process.env.CI) expect(hasNativeDataRegions()).toBe(true);
      const plain = Buffer.from(await collectBytes(readFile(path, window)));
      let zeroViews = 0;
      const chunks: Uint8Array[] = [];
      for await (const chunk of readFile(path, { ...window, seekData: true, reuseBuffer: true })) {
        if (chunk.buffer === zeros(0).buffer) zeroViews++;
        chunks.push(chunk.slice());
      }
      expect(Buffer.concat(chunks).equals(plain)).toBe(true);
      if (hasNativeDataRegions() && window.offset !== 39 * MiB) {
        expect(zeroViews).toBeGreaterThan(10);
      }
    });
  }
});
