// Checks the container placements' tests share: a placed image against the
// raw file of the same writes (writeScattered), by our reader and qemu-img.
import { closeSync, readFileSync, statSync } from "node:fs";
import { expect } from "vitest";
import { imageEqualsRaw, qemuImg, type writeScattered } from "./_test_tools.ts";
import type { ImageSink, WriteResult } from "./image_sink.ts";

type Placed = ReturnType<typeof writeScattered> & {
  placement: { finish(sink: ImageSink): Promise<WriteResult> };
};

/** The same writes give the same file twice, and it reads back as the raw file. */
export async function expectSameWritesSameFile(write: (name: string) => Placed): Promise<void> {
  const files = [];
  for (const name of ["same-a", "same-b"]) {
    const w = write(name);
    await w.placement.finish(w.sink);
    closeSync(w.fd);
    files.push(readFileSync(w.image));
    expect(await imageEqualsRaw(w.image, w.raw)).toBe(true);
  }
  expect(Buffer.compare(files[0] as Buffer, files[1] as Buffer)).toBe(0);
}

/**
 * Finishes `w` (a disk of `size` bytes in units of `unit`): units never
 * written take no room, qemu-img sees the format and size and reads the raw
 * disk (and checks it clean, where it has a check for the format), and so
 * does our reader. Returns qemu-img's info.
 */
export async function expectQemuReadsRaw(
  w: Placed,
  size: number,
  unit: number,
  qemu: { format: "vpc" | "vmdk"; check: boolean },
): Promise<Record<string, unknown>> {
  const result = await w.placement.finish(w.sink);
  closeSync(w.fd);
  expect(result.virtualSize).toBe(Math.ceil(size / 512) * 512);
  expect(result.fileSize).toBe(statSync(w.image).size);
  // At most: the units written, two more per piece written across them, the first and last.
  expect(result.dataBytes).toBeLessThanOrEqual((w.written / unit + 2 * 300 + 2) * unit);
  if (qemu.check) {
    const check = await qemuImg("check", "-f", qemu.format, w.image);
    expect(check.stdout).toMatch(/No errors were found/);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
  }
  const info = JSON.parse((await qemuImg("info", "--output=json", w.image)).stdout);
  expect(info.format).toBe(qemu.format);
  expect(info["virtual-size"]).toBe(result.virtualSize);
  const cmp = await qemuImg("compare", "-f", "raw", "-F", qemu.format, w.raw, w.image);
  expect(cmp.stdout).toMatch(/Images are identical/);
  expect(cmp.exitCode, cmp.stdout + cmp.stderr).toBe(0);
  expect(await imageEqualsRaw(w.image, w.raw)).toBe(true);
  return info;
}
