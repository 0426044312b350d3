import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileDevice } from "./file_device.ts";

const dir = mkdtempSync(join(tmpdir(), "blockdev-file-device-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = new Uint8Array(3 << 20);
for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 12)) & 0xff;
const path = join(dir, "disk.img");
writeFileSync(path, bytes);

describe.each([false, true])("FileDevice (blocking: %s)", (blocking) => {
  it("reads any range of the file, as it is", async () => {
    const device = await FileDevice.open(path, { readOnly: true, blocking });
    try {
      expect(device.size).toBe(bytes.length);
      for (const [offset, length] of [
        [0, 512],
        [12345, 1 << 20],
        [bytes.length - 7, 7],
        [5, 0],
      ] as const) {
        const got = await device.read(offset, length);
        expect(Buffer.from(got).equals(bytes.subarray(offset, offset + length))).toBe(true);
      }
      await expect(device.read(bytes.length - 1, 2)).rejects.toThrow(RangeError);
    } finally {
      await device.close();
    }
  });

  it("a file that shrinks under it is an error naming it, not zeros", async () => {
    const short = join(dir, `short-${blocking}.img`);
    writeFileSync(short, bytes.subarray(0, 1 << 20));
    const device = await FileDevice.open(short, { readOnly: true, blocking });
    try {
      truncateSync(short, 4096);
      await expect(device.read(0, 8192)).rejects.toThrow(/shrank/);
    } finally {
      await device.close();
    }
  });
});

it("a directory is refused", async () => {
  await expect(FileDevice.open(dir, { readOnly: true })).rejects.toThrow(/directory/);
});
