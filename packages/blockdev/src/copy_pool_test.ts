import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";

import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeError } from "@bigfile/cli-kit";
import { afterAll, describe, expect, it } from "vitest";
import { FirstTouchPlacement } from "./_test_placement.ts";
import { CopyPool } from "./copy_pool.ts";
import { findDataRuns } from "./data_runs.ts";
import { writeNonZeroBlocks } from "./file_sink.ts";

const dir = mkdtempSync(join(tmpdir(), "blockdev-copy-pool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `n` bytes of a pattern that never has a zero byte at a block start. */
function pattern(n: number, salt: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => ((i * 7 + salt) % 251) + 1);
}

async function withPool(
  threads: number,
  out: string,
  run: (pool: CopyPool, fd: number) => void,
): Promise<void> {
  const pool = new CopyPool({ threads, maxQueued: 4096 });
  const fd = openSync(out, "wx");
  try {
    pool.attach(fd, 512);
    run(pool, fd);
    await pool.finish();
  } finally {
    closeSync(fd);
    await pool.close();
  }
}

describe("CopyPool", () => {
  for (const threads of [1, 2]) {
    it(`copies thousands of ranges to their places with ${threads} worker(s), also when the queue is full`, async () => {
      const sources: { path: string; bytes: Uint8Array }[] = [];
      for (let i = 0; i < 40; i++) {
        const path = join(dir, `src-${threads}-${i}`);
        const bytes = pattern(20_000 + i * 3_000, i);
        writeFileSync(path, bytes);
        sources.push({ path, bytes });
      }
      const out = join(dir, `out-${threads}.img`);
      const expected = new Uint8Array(512 + 128 * 2 ** 20);
      let at = 0;
      let ranges = 0;
      const marker = new Uint8Array(4096).fill(0xaa);
      // 12,000 ranges, three times what the queue may hold: the caller copies
      // some. Each starts on a block; some leave a block between them that
      // someone else writes (the markers), which must survive.
      await withPool(threads, out, (pool, fd) => {
        for (let round = 0; round < 300; round++) {
          for (const [i, s] of sources.entries()) {
            const from = (round * 131 + i * 17) % 10_000;
            const length = 1 + ((round * 7919 + i * 104_729) % 8000);
            pool.copy(s.path, from, length, at);
            expected.set(s.bytes.subarray(from, from + length), 512 + at);
            at = Math.ceil((at + length) / 4096) * 4096;
            if ((round + i) % 3 === 0) {
              writeSync(fd, marker, 0, 4096, 512 + at);
              expected.set(marker, 512 + at);
              at += 4096;
            }
            ranges++;
          }
        }
      });
      expect(ranges).toBe(12_000);
      const got = readFileSync(out);
      expect(got.length).toBeGreaterThan(at - 8192);
      expect(Buffer.compare(got, expected.subarray(0, got.length))).toBe(0);
    });
  }

  it("copies through a placement: each range to the file ranges it gives, in the order of the calls", async () => {
    const sources = [0, 1, 2].map((i) => {
      const path = join(dir, `placed-src-${i}`);
      const bytes = pattern(300_000 + i * 70_000, i + 11);
      writeFileSync(path, bytes);
      return { path, bytes };
    });
    // 64 KiB units placed as first written; the image starts 32256 bytes in,
    // so 4 KiB blocks straddle units and ranges split mid-block.
    const placement = new FirstTouchPlacement(65536, 65536);
    const out = join(dir, "placed.img");
    const expected = new Uint8Array(8 << 20);
    const pool = new CopyPool({ threads: 2, maxQueued: 64 });
    const fd = openSync(out, "wx");
    try {
      pool.attach(fd, 32256, 4096, placement);
      // Backwards through the image, so that file order is not image order.
      const at = [6 << 20, 3 << 20, 1 << 20, 0];
      for (let k = 0; k < at.length; k++) {
        const s = sources[k % sources.length] as { path: string; bytes: Uint8Array };
        const from = 4096 * k;
        const length = s.bytes.length - from - k;
        pool.copy(s.path, from, length, at[k] as number);
        expected.set(s.bytes.subarray(from, from + length), 32256 + (at[k] as number));
      }
      await pool.finish();
    } finally {
      closeSync(fd);
      await pool.close();
    }
    expect(placement.calls[0]).toEqual([32256 + (6 << 20), 300_000]);
    const got = placement.image(readFileSync(out), expected.length);
    expect(Buffer.compare(got, expected)).toBe(0);
    // Only what the ranges cover took room: no unit of the image's gaps.
    expect(statSync(out).size).toBeLessThanOrEqual(65536 * (placement.slots.size + 1));
    expect(placement.slots.size).toBeLessThan(40);
  });

  it("through a placement, never writes over the block between two ranges (someone else's)", async () => {
    const sources = [0, 1, 2, 3].map((i) => {
      const path = join(dir, `gap-src-${i}`);
      const bytes = pattern(90_000 + i * 9_000, i + 21);
      writeFileSync(path, bytes);
      return { path, bytes };
    });
    const placement = new FirstTouchPlacement(65536, 65536);
    const out = join(dir, "placed-gaps.img");
    const base = 32256; // the image starts mid-block of the file's clusters, as a partition does
    const expected = new Uint8Array(64 << 20);
    const marker = new Uint8Array(4096).fill(0xaa);
    const pool = new CopyPool({ threads: 2, maxQueued: 4096 });
    const fd = openSync(out, "wx");
    let end = 0;
    try {
      pool.attach(fd, base, 4096, placement);
      for (let i = 0; i < 40; i++) {
        // A file in two runs with its indirect block between them, which the
        // caller writes first: that block's cluster is placed before the
        // first run's, so the first run splits at the boundary, mid-block,
        // and the second run follows it within a block in the file.
        const s = sources[i % sources.length] as { path: string; bytes: Uint8Array };
        // Ranges start on the image's blocks; a cluster boundary of the file
        // is 512 bytes into one of them. The first run is whole blocks.
        const boundary = (i * 16 + 8) * 65536 - base;
        const first = Math.floor(boundary / 4096) * 4096 - 4096 * (i % 5);
        const firstLength = Math.ceil((boundary - first) / 4096) * 4096 + 4096 * (i % 3);
        const gap = first + firstLength;
        const secondLength = 20_000 + 500 * i;
        writeNonZeroBlocks(fd, marker, base + gap, 4096, placement);
        expected.set(marker, base + gap);
        pool.copy(s.path, 0, firstLength, first);
        pool.copy(s.path, firstLength, secondLength, gap + 4096);
        expected.set(s.bytes.subarray(0, firstLength), base + first);
        expected.set(s.bytes.subarray(firstLength, firstLength + secondLength), base + gap + 4096);
        end = base + gap + 4096 + secondLength;
      }
      await pool.finish();
    } finally {
      closeSync(fd);
      await pool.close();
    }
    const got = placement.image(readFileSync(out), end);
    expect(Buffer.compare(got, expected.subarray(0, end))).toBe(0);
  });

  it("leaves zero blocks of a range as holes", async () => {
    const src = join(dir, "mostly-zero");
    const bytes = new Uint8Array(8 << 20);
    bytes.set(pattern(4096, 3), 0);
    bytes.set(pattern(10, 5), 5 << 20);
    // Blocks that start with zeros but hold data further on are data too.
    bytes[(6 << 20) + 4095] = 9;
    bytes[(7 << 20) + 17] = 1;
    writeFileSync(src, bytes);
    const out = join(dir, "holes.img");
    await withPool(1, out, (pool) => pool.copy(src, 0, bytes.length, 0));
    // The last data block ends the file: the caller sets the final size.
    const got = readFileSync(out);
    expect(got.length).toBe(512 + (7 << 20) + 4096);
    expect(Buffer.compare(got.subarray(512), bytes.subarray(0, got.length - 512))).toBe(0);
    expect(statSync(out).blocks * 512).toBeLessThanOrEqual(64 * 1024);
  });

  it("reports a source that ends early or is missing, naming it", async () => {
    const src = join(dir, "short");
    writeFileSync(src, pattern(1000, 1));
    await expect(
      withPool(1, join(dir, "short.img"), (pool) => pool.copy(src, 0, 5000, 0, "short-label")),
    ).rejects.toThrow(/^Cannot read short-label: it ended at 1000 bytes, expected at least 5000/);
    const missing = await withPool(2, join(dir, "missing.img"), (pool) =>
      pool.copy(join(dir, "nope"), 0, 10, 0),
    ).catch((error: unknown) => error);
    expect(String(missing)).toMatch(/^Error: Cannot read .*nope: ENOENT/);
    // A command line prints the sentence, not the bare errno text.
    expect(describeError(missing)).toMatch(/^Cannot read .*nope: ENOENT/);
  });

  it("says when writing the output fails, not the source", async () => {
    const src = join(dir, "fine");
    writeFileSync(src, pattern(10_000, 4));
    const out = join(dir, "read-only.img");
    writeFileSync(out, "");
    const pool = new CopyPool({ threads: 1 });
    const fd = openSync(out, "r");
    try {
      pool.attach(fd);
      pool.copy(src, 0, 10_000, 0);
      await expect(pool.finish()).rejects.toThrow(/^Cannot write the output: EBADF/);
    } finally {
      closeSync(fd);
      await pool.close();
    }
  });

  it("checks that files can be read, before any output is attached", async () => {
    const pool = new CopyPool({ threads: 1 });
    try {
      const fine = join(dir, "readable");
      writeFileSync(fine, "x");
      for (let i = 0; i < 100; i++) pool.check(fine);
      await pool.finish();
      pool.check(join(dir, "vanished"), "the-label");
      await expect(pool.finish()).rejects.toThrow(/^Cannot read the-label: ENOENT/);
    } finally {
      await pool.close();
    }
  });

  it("answers a data-runs question while a worker sleeps, with no flush or finish", async () => {
    // A worker that ran out of work sleeps holding the next range's index;
    // mkfs then awaits a hole scan with nothing else queued. It hung once.
    const pool = new CopyPool({ threads: 1 });
    try {
      const path = join(dir, "asleep");
      writeFileSync(path, pattern(3000, 5));
      pool.check(path);
      pool.flush();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const runs = pool.dataRuns(path, { size: 3000 });
      const late = new Promise((resolve) => setTimeout(resolve, 5000, "no answer"));
      expect(await Promise.race([runs, late])).toEqual(findDataRuns(path, { size: 3000 }));
      await pool.finish();
    } finally {
      await pool.close();
    }
  });

  it("finds data runs on the workers, as findDataRuns does here", async () => {
    const pool = new CopyPool({ threads: 1 });
    try {
      const paths: string[] = [];
      for (let i = 0; i < 50; i++) {
        const path = join(dir, `runs-${i}`);
        const bytes = new Uint8Array(20 * 1024 + i);
        bytes.set(pattern(100, i), (i % 20) * 1024);
        writeFileSync(path, bytes);
        paths.push(path);
      }
      const found = paths.map((path, i) => pool.dataRuns(path, { size: 20 * 1024 + i }));
      pool.flush();
      await pool.finish();
      for (const [i, promise] of found.entries()) {
        expect(await promise).toEqual(findDataRuns(paths[i] as string, { size: 20 * 1024 + i }));
      }
      const short = pool.dataRuns(paths[0] as string, { size: 10 ** 6 }, "short-one");
      await expect(pool.finish()).rejects.toThrow(
        /^Cannot read short-one: it ended at 20480 bytes/,
      );
      await expect(short).rejects.toThrow(/^Cannot read short-one/);
    } finally {
      await pool.close();
    }
  });
});
