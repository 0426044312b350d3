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
import { CopyPool } from "./copy_pool.ts";
import { findDataRuns } from "./data_runs.ts";

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
