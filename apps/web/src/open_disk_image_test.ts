import { MemoryDevice } from "@bigfile/blockdev";
import { MemorySink, writeImage } from "@bigfile/vdisk";
import { describe, expect, it } from "vitest";
import { openDiskImage } from "./open_disk_image.ts";

/** A 2 MiB disk: a boot signature and some text past the first MiB. */
function rawDisk(): Uint8Array {
  const raw = new Uint8Array(2 << 20);
  raw.set([0x55, 0xaa], 510);
  raw.set(new TextEncoder().encode("bigfile-web-test\n".repeat(500)), 1 << 20);
  return raw;
}

describe("openDiskImage", () => {
  const raw = rawDisk();

  it("gives a raw image back as itself", async () => {
    const file = new MemoryDevice(raw);
    expect(await openDiskImage(file)).toEqual({ disk: file, format: "raw" });
  });

  // Written by vdisk here; the page test reads the ones qemu-img makes in Chromium.
  for (const format of ["qcow2", "vhd", "vhd-fixed", "vmdk", "vmdk-stream"] as const) {
    it(`opens ${format} through vdisk's core, the disk's bytes unchanged`, async () => {
      const sink = new MemorySink();
      const data = (async function* () {
        yield raw;
      })();
      await writeImage({ size: raw.length, data }, format, sink);
      const { disk, format: found } = await openDiskImage(new MemoryDevice(sink.bytes().slice()));
      expect(found).toBe(format);
      expect(disk.size).toBeGreaterThanOrEqual(raw.length);
      const back = await disk.read(0, raw.length);
      // Compared as one buffer: a deep equality of 2 MiB element by element is slow.
      expect(Buffer.from(back).equals(Buffer.from(raw))).toBe(true);
    });
  }
});
