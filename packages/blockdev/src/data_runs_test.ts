import {
  closeSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findDataRuns } from "./data_runs.ts";

const dir = mkdtempSync(join(tmpdir(), "blockdev-data-runs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file of `size` bytes (holes) with `bytes` written at each offset. */
function sparse(name: string, size: number, at: number[], bytes = Buffer.from("data")): string {
  const path = join(dir, name);
  const fd = openSync(path, "w");
  for (const offset of at) writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
  truncateSync(path, size);
  return path;
}

describe("findDataRuns", () => {
  it("finds the 1 KiB units that hold data, or says the file is all data", () => {
    const path = sparse("small", 10 * 1024, [0, 5 * 1024 + 10, 10 * 1024 - 1]);
    expect(findDataRuns(path, { size: 10 * 1024 })).toEqual([0, 1, 5, 1, 9, 1]);
    const dense = join(dir, "dense");
    writeFileSync(dense, Buffer.alloc(3000, 7));
    expect(findDataRuns(dense, { size: 3000 })).toBeUndefined();
    const zeros = join(dir, "zeros");
    writeFileSync(zeros, Buffer.alloc(5000));
    expect(findDataRuns(zeros, { size: 5000 })).toEqual([]);
  });

  it("scans a region of a file (a tar body in a spool)", () => {
    const path = sparse("region", 64 * 1024, [8192 + 2048]);
    expect(findDataRuns(path, { offset: 8192, size: 4096 })).toEqual([2, 1]);
  });

  it("reads a big, mostly unallocated file around the page cache, with the same answer", () => {
    const size = 96 * 2 ** 20 + 777;
    const path = sparse("big", size, [0, 50 * 2 ** 20, size - 100]);
    const allocated = statSync(path).blocks * 512;
    expect(allocated * 2).toBeLessThan(size);
    const units = Math.ceil(size / 1024);
    const runs = [0, 1, 50 * 1024, 1, units - 1, 1];
    expect(findDataRuns(path, { size, allocated })).toEqual(runs);
    expect(findDataRuns(path, { size })).toEqual(runs);
  });

  it("says where a file shorter than its region ends", () => {
    const path = join(dir, "short");
    writeFileSync(path, Buffer.alloc(100, 1));
    expect(() => findDataRuns(path, { size: 5000 })).toThrow(
      /^it ended at 100 bytes, expected 5000/,
    );
  });
});
