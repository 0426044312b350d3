import { openAsBlob } from "node:fs";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BlobDevice } from "./blob_device.ts";
import { DeviceRangeError } from "./block_device.ts";
import { SliceDevice } from "./slice_device.ts";

const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7 + 3) & 0xff);

describe("BlobDevice", () => {
  it("reads exactly the requested slice and counts what it fetched", async () => {
    const dev = new BlobDevice(new Blob([bytes]));
    expect(dev.size).toBe(4096);
    expect(dev.sectorSize).toBe(512);
    expect(dev.readOnly).toBe(true);
    expect(await dev.read(1000, 24)).toEqual(bytes.slice(1000, 1024));
    expect(await dev.read(4095, 1)).toEqual(bytes.slice(4095));
    expect((await dev.read(4096, 0)).length).toBe(0);
    expect(dev.bytesRead).toBe(25);
    expect(dev.reads).toBe(3);
  });

  it("refuses reads outside the blob with the offset", async () => {
    const dev = new BlobDevice(new Blob([bytes]));
    await expect(dev.read(4095, 2)).rejects.toThrow(DeviceRangeError);
    await expect(dev.read(4095, 2)).rejects.toThrow(
      "Cannot read 2 bytes at offset 4095: the device holds 4096 bytes (last byte 4095)",
    );
    await expect(dev.read(-1, 1)).rejects.toMatchObject({ offset: -1 });
    expect(dev.bytesRead).toBe(0);
  });

  it("is read-only and unusable once closed", async () => {
    const dev = new BlobDevice(new Blob([bytes]), { sectorSize: 4096 });
    expect(dev.sectorSize).toBe(4096);
    await expect(dev.write(0, new Uint8Array(1))).rejects.toThrow(
      "Cannot write: a Blob is read-only",
    );
    await dev.close();
    await expect(dev.read(0, 1)).rejects.toThrow("Cannot use a closed device");
  });

  it("refuses a sector size that is not a positive integer", () => {
    expect(() => new BlobDevice(new Blob([]), { sectorSize: 0 })).toThrow(RangeError);
    expect(() => new BlobDevice(new Blob([]), { sectorSize: 1.5 })).toThrow(
      "Cannot use a sector size of 1.5: it must be a positive integer",
    );
  });

  it("works under a SliceDevice like any other device", async () => {
    const part = new SliceDevice(new BlobDevice(new Blob([bytes])), { offset: 512, length: 1024 });
    expect(await part.read(1020, 4)).toEqual(bytes.slice(1532, 1536));
    await expect(part.read(1021, 4)).rejects.toThrow(DeviceRangeError);
  });

  describe("over a 4 GB sparse file (fs.openAsBlob, as a browser's File)", () => {
    const dirs: string[] = [];
    afterAll(async () => {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    });

    it("reads bytes near the start and the end without loading the file", async () => {
      const dir = await mkdtemp(join(tmpdir(), "blob-device-"));
      dirs.push(dir);
      const path = join(dir, "big.img");
      await writeFile(path, "");
      const fh = await open(path, "r+");
      await fh.truncate(4141875200);
      await fh.write(Uint8Array.of(0x53, 0xef), 0, 2, 32256 + 1024 + 56);
      await fh.write(Uint8Array.of(0xaa), 0, 1, 4141875199);
      await fh.close();

      const before = process.memoryUsage().rss;
      const dev = new BlobDevice(await openAsBlob(path));
      expect(dev.size).toBe(4141875200);
      expect([...(await dev.read(32256 + 1024 + 56, 2))]).toEqual([0x53, 0xef]);
      expect([...(await dev.read(4141875200 - 2, 2))]).toEqual([0, 0xaa]);
      expect(dev.bytesRead).toBe(4);
      // Loading the file would take 4 GB; a few slices take nothing worth measuring.
      expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
    });
  });
});
