import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { copyFileRange, copyFileRanges, hasNativeFileRanges, nonZeroRuns } from "./file_ranges.ts";

const dir = mkdtempSync(join(tmpdir(), "blockdev-file-ranges-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.BIGFILE_NO_NATIVE;
});

// As in data_regions_test: CI builds the addon (gcc), so there it must load.
const native = hasNativeFileRanges();
if (!native && !process.env.CI) {
  console.warn(
    "blockdev: NATIVE ADDON NOT BUILT — copyFileRange/nonZeroRuns are tested only through their JavaScript fallback: install gcc (Debian package gcc) and run pnpm --filter @bigfile/blockdev build",
  );
}
const paths = native ? (["native", "fallback"] as const) : (["fallback"] as const);

/** Bytes with scattered non-zero runs, zero units between: deterministic. */
function scattered(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed;
  const next = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
  for (let i = 0; i < 60; i++) {
    const at = next() % length;
    const n = 1 + (next() % 9000);
    bytes.fill(1 + (next() % 255), at, Math.min(length, at + n));
  }
  return bytes;
}

/** The runs nonZeroRuns must give, computed the obvious way. */
function expectedRuns(bytes: Uint8Array, offset: number, length: number, unit: number): number[] {
  const runs: number[] = [];
  for (let u = offset; u < offset + length; ) {
    const end = Math.min(offset + length, (Math.floor(u / unit) + 1) * unit);
    if (bytes.subarray(u, end).some((b) => b !== 0)) {
      const last = runs.length - 2;
      if (last >= 0 && (runs[last] as number) + (runs[last + 1] as number) === u)
        runs[last + 1] = (runs[last + 1] as number) + end - u;
      else runs.push(u, end - u);
    }
    u = end;
  }
  return runs;
}

test("CI has the native addon", () => {
  if (process.env.CI) expect(native).toBe(true);
});

describe.each(paths)("%s", (path) => {
  const use = () => {
    if (path === "fallback") process.env.BIGFILE_NO_NATIVE = "1";
  };

  test("nonZeroRuns finds the non-zero units of any range, clipped to it", () => {
    use();
    const bytes = scattered(3 << 20, 7);
    const file = join(dir, `scan-${path}.bin`);
    writeFileSync(file, bytes);
    const fd = openSync(file, "r");
    try {
      for (const unit of [512, 4096, 65536, 1 << 20, 2 << 20]) {
        for (const [offset, length] of [
          [0, bytes.length],
          [1000, (2 << 20) + 77],
          [(1 << 20) - 3, 10],
          [5, 0],
        ] as [number, number][]) {
          expect(nonZeroRuns(fd, offset, length, unit)).toEqual(
            expectedRuns(bytes, offset, length, unit),
          );
        }
      }
      // Past the end of the file nothing is data.
      expect(nonZeroRuns(fd, bytes.length - 4096, 1 << 20, 4096)).toEqual(
        expectedRuns(bytes, bytes.length - 4096, 4096, 4096),
      );
    } finally {
      closeSync(fd);
    }
  });

  test("copyFileRange copies ranges between files at any offsets", () => {
    use();
    const bytes = scattered(5 << 20, 11);
    const from = join(dir, `from-${path}.bin`);
    const to = join(dir, `to-${path}.bin`);
    writeFileSync(from, bytes);
    const a = openSync(from, "r");
    const b = openSync(to, "w");
    try {
      copyFileRange(a, 12345, b, 777, (3 << 20) + 5);
      copyFileRange(a, 0, b, 10, 100);
      copyFileRange(a, 0, b, 0, 0);
    } finally {
      closeSync(a);
      closeSync(b);
    }
    const got = readFileSync(to);
    expect(got.length).toBe(777 + (3 << 20) + 5);
    // Buffer.equals: vitest's deep equality takes seconds on megabytes.
    expect(got.subarray(10, 110).equals(bytes.subarray(0, 100))).toBe(true);
    expect(got.subarray(777).equals(bytes.subarray(12345, 12345 + (3 << 20) + 5))).toBe(true);
    expect(got.subarray(0, 10).every((b) => b === 0)).toBe(true);
  });

  test("copyFileRanges copies many ranges in one call; big scans agree too", () => {
    use();
    const bytes = scattered(80 << 20, 13);
    const from = join(dir, `many-${path}.bin`);
    const to = join(dir, `many-to-${path}.bin`);
    writeFileSync(from, bytes);
    // Reversed halves and an odd piece.
    const ranges = [0, 40 << 20, 40 << 20, 40 << 20, 0, 40 << 20, (80 << 20) + 3, 17, 999];
    const a = openSync(from, "r");
    const b = openSync(to, "w");
    try {
      copyFileRanges(a, b, ranges);
    } finally {
      closeSync(a);
      closeSync(b);
    }
    const got = readFileSync(to);
    expect(got.length).toBe((80 << 20) + 3 + 999);
    expect(got.subarray(0, 40 << 20).equals(bytes.subarray(40 << 20))).toBe(true);
    expect(got.subarray(40 << 20, 80 << 20).equals(bytes.subarray(0, 40 << 20))).toBe(true);
    expect(got.subarray((80 << 20) + 3).equals(bytes.subarray(17, 17 + 999))).toBe(true);
    const c = openSync(from, "r");
    try {
      expect(nonZeroRuns(c, 4097, (80 << 20) - 9000, 4096)).toEqual(
        expectedRuns(bytes, 4097, (80 << 20) - 9000, 4096),
      );
    } finally {
      closeSync(c);
    }
  });

  test("across filesystems (where the kernel may refuse: EXDEV), the bytes still arrive", () => {
    use();
    // /dev/shm is a tmpfs on Linux: another filesystem than the scratch directory's, as a rule.
    const other = existsSync("/dev/shm") && statSync("/dev/shm").dev !== statSync(dir).dev;
    const target = other ? mkdtempSync("/dev/shm/blockdev-ranges-") : dir;
    try {
      const bytes = scattered(3 << 20, 17);
      const from = join(dir, `cross-${path}.bin`);
      const to = join(target, `cross-to-${path}.bin`);
      writeFileSync(from, bytes);
      const a = openSync(from, "r");
      const b = openSync(to, "w");
      try {
        copyFileRanges(a, b, [4096, 1000, (2 << 20) + 5, 0, 0, 10]);
      } finally {
        closeSync(a);
        closeSync(b);
      }
      const got = readFileSync(to);
      expect(got.subarray(0, 10).equals(bytes.subarray(0, 10))).toBe(true);
      expect(got.subarray(4096).equals(bytes.subarray(1000, 1000 + (2 << 20) + 5))).toBe(true);
    } finally {
      if (other) rmSync(target, { recursive: true, force: true });
    }
  });

  test("any number of ranges in one call (more numbers than a call takes arguments)", () => {
    use();
    const from = join(dir, `count-${path}.bin`);
    const to = join(dir, `count-to-${path}.bin`);
    writeFileSync(from, "abcdef");
    const ranges: number[] = [];
    for (let i = 0; i < 200_000; i++) ranges.push(i % 6, i % 6, 0);
    ranges.push(0, 2, 3);
    const a = openSync(from, "r");
    const b = openSync(to, "w");
    try {
      copyFileRanges(a, b, ranges);
    } finally {
      closeSync(a);
      closeSync(b);
    }
    expect(readFileSync(to, "latin1")).toBe("cde");
  });

  test("a source that ends before the range is an error, not zeros", () => {
    use();
    const from = join(dir, `short-${path}.bin`);
    writeFileSync(from, new Uint8Array(1000).fill(1));
    const a = openSync(from, "r");
    const b = openSync(join(dir, `short-out-${path}.bin`), "w");
    try {
      expect(() => copyFileRange(a, 0, b, 0, 5000)).toThrow(/ended before the range/);
    } finally {
      closeSync(a);
      closeSync(b);
    }
  });
});

test("arguments are checked", () => {
  expect(() => copyFileRange(-1, 0, 1, 0, 1)).toThrow(TypeError);
  expect(() => copyFileRange(0, 0.5, 1, 0, 1)).toThrow(TypeError);
  expect(() => copyFileRanges(0, 1, [0, 0])).toThrow(/triples/);
  expect(() => nonZeroRuns(0, 0, 1, 3072)).toThrow(/power of two/);
  expect(() => nonZeroRuns(0, 0, 1, 256)).toThrow(/power of two/);
  expect(() => nonZeroRuns(0, -1, 1, 4096)).toThrow(TypeError);
});
