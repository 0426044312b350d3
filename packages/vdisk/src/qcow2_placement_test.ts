// Qcow2Placement: a qcow2 written by position in any order, judged by qemu-img
// and by our reader against the same writes into a raw file.
import { closeSync, readFileSync, statSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { describeWithTools } from "../../../test/harness/tools.ts";
import { imageEqualsRaw, qemuImg, scratchDir, writeScattered } from "./_test_tools.ts";
import { MemorySink } from "./image_sink.ts";
import { Qcow2Placement } from "./qcow2_placement.ts";

const { dir, cleanup } = scratchDir("vdisk-placement-");
afterAll(cleanup);

/** Scattered writes into a raw file and through a placement into a qcow2 file. */
function writeBoth(name: string, size: number, clusterSize: number, seed: number) {
  const placement = new Qcow2Placement(size, { clusterSize });
  const file = { name, ext: "qcow2" };
  return { placement, ...writeScattered(dir, file, size, clusterSize, seed, placement) };
}

describe("Qcow2Placement", () => {
  it("gives a guest cluster the next host cluster when first written; later writes go there too", () => {
    const p = new Qcow2Placement(1 << 30);
    // Cluster 10 first, then 9: host clusters 1 and 2 (cluster 0 is the header).
    expect(p.place(10 * 65536 + 5, 10)).toEqual([65536 + 5, 10]);
    expect(p.place(9 * 65536, 65536 + 100)).toEqual([2 * 65536, 65536, 65536, 100]);
    // 11, 12 and 13 follow 9 in the file: one range.
    expect(p.place(11 * 65536 - 1, 2 * 65536 + 2)).toEqual([
      2 * 65536 - 1,
      1,
      3 * 65536,
      2 * 65536 + 1,
    ]);
    expect(p.dataBytes).toBe(5 * 65536);
    expect(p.place(0, 0)).toEqual([]);
  });

  it("refuses what is outside the disk, bad cluster sizes, and use after finish", async () => {
    const p = new Qcow2Placement(1000); // rounded up to whole sectors, as QEMU counts
    expect(p.size).toBe(1024);
    expect(() => p.place(1000, 25)).toThrow(
      /^Cannot place 25 bytes at 1000 of a qcow2 disk of 1024 bytes$/,
    );
    expect(() => p.place(-1, 1)).toThrow(RangeError);
    expect(() => new Qcow2Placement(1 << 20, { clusterSize: 3000 })).toThrow(
      /expected a power of two from 512 to 2097152/,
    );
    await expect(p.finish(new MemorySink({ seekable: false }))).rejects.toThrow(/seekable/);
    await p.finish(new MemorySink());
    expect(() => p.place(0, 1)).toThrow(/after finish/);
    await expect(p.finish(new MemorySink())).rejects.toThrow(/twice/);
  });

  it("the same writes give the same file", async () => {
    const files = [];
    for (const name of ["same-a", "same-b"]) {
      const w = writeBoth(name, 64 << 20, 65536, 7);
      await w.placement.finish(w.sink);
      closeSync(w.fd);
      files.push(readFileSync(w.image));
    }
    expect(Buffer.compare(files[0] as Buffer, files[1] as Buffer)).toBe(0);
  });
});

describeWithTools(["qemu-img"], "Qcow2Placement: qemu-img agrees", () => {
  for (const [size, clusterSize] of [
    [3 * 2 ** 30 + 12345, 65536],
    [200 << 20, 4096],
    [5 * 2 ** 30, 2 << 20],
  ] as const) {
    it(`${size} bytes, ${clusterSize}-byte clusters, written in random order: check clean, compare identical, our reader agrees`, {
      timeout: 120_000,
    }, async () => {
      const name = `disk-${size}-${clusterSize}`;
      const w = writeBoth(name, size, clusterSize, size % 9973);
      const result = await w.placement.finish(w.sink);
      closeSync(w.fd);
      expect(result.virtualSize).toBe(Math.ceil(size / 512) * 512);
      expect(result.fileSize).toBe(statSync(w.image).size);
      // Clusters that were never written (or only with zeros) take no room.
      expect(result.dataBytes).toBeLessThanOrEqual(
        (w.written / clusterSize + 2 * 300 + 2) * clusterSize,
      );
      expect(result.fileSize).toBeLessThan(result.dataBytes + 64 * clusterSize + (1 << 20));
      const check = await qemuImg("check", w.image);
      expect(check.exitCode, check.stdout + check.stderr).toBe(0);
      const info = JSON.parse((await qemuImg("info", "--output=json", w.image)).stdout);
      expect(info.format).toBe("qcow2");
      expect(info["virtual-size"]).toBe(result.virtualSize);
      expect(info["cluster-size"]).toBe(clusterSize);
      const cmp = await qemuImg("compare", "-f", "raw", "-F", "qcow2", w.raw, w.image);
      expect(cmp.exitCode, cmp.stdout + cmp.stderr).toBe(0);
      expect(await imageEqualsRaw(w.image, w.raw)).toBe(true);
    });
  }
});
