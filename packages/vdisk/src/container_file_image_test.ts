// A container's stored data copied file to file: qemu-img makes the inputs and judges the outputs.
import { closeSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import { FileDevice } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { afterAll, describe, expect, it } from "vitest";
import { describeWithTools } from "../../../test/harness/tools.ts";
import { nodeCodecs } from "./_node_zlib.ts";
import { qemuImg, scatteredImage, scratchDir } from "./_test_tools.ts";
import { main } from "./cli.ts";
import { containerFileImage } from "./container_file_image.ts";
import { writeImageFile } from "./file_sink.ts";
import type { ImageDevice, ImageFormat } from "./image_device.ts";
import type { RawImage } from "./image_sink.ts";
import { openImage } from "./open_image.ts";
import { writeImage } from "./write_image.ts";

const { dir, cleanup } = scratchDir("vdisk-container-");
afterAll(cleanup);

/** A device over `path` that counts the bytes read from its file. */
async function countingDevice(
  path: string,
): Promise<{ device: ImageDevice; bytesRead: () => number }> {
  const file = await FileDevice.open(path, { readOnly: true });
  let bytes = 0;
  const read = file.read.bind(file);
  file.read = (offset: number, length: number) => {
    bytes += length;
    return read(offset, length);
  };
  const device = await openImage(file, { codecs: nodeCodecs });
  return { device, bytesRead: () => bytes };
}

/** `image` whose `data` must not be read. */
function withoutData(image: RawImage): RawImage {
  const data: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      throw new Error("the data was read through JavaScript");
    },
  };
  return { ...image, data };
}

const CASES: { name: string; qemu: string[]; compressed: boolean }[] = [
  { name: "qcow2", qemu: ["-O", "qcow2"], compressed: false },
  {
    name: "qcow2 4K clusters",
    qemu: ["-O", "qcow2", "-o", "cluster_size=4096"],
    compressed: false,
  },
  { name: "qcow2 2M clusters", qemu: ["-O", "qcow2", "-o", "cluster_size=2M"], compressed: false },
  { name: "qcow2 compressed", qemu: ["-c", "-O", "qcow2"], compressed: true },
  {
    name: "qcow2 compressed 4K",
    qemu: ["-c", "-O", "qcow2", "-o", "cluster_size=4096"],
    compressed: true,
  },
  { name: "vhd dynamic", qemu: ["-O", "vpc", "-o", "subformat=dynamic"], compressed: false },
  { name: "vhd fixed", qemu: ["-O", "vpc", "-o", "subformat=fixed"], compressed: false },
  { name: "vmdk monolithicSparse", qemu: ["-O", "vmdk"], compressed: false },
  {
    name: "vmdk streamOptimized",
    qemu: ["-O", "vmdk", "-o", "subformat=streamOptimized"],
    compressed: true,
  },
];

describeWithTools(["qemu-img"], "containerFileImage: qemu-img's images copied file to file", () => {
  const raw = scatteredImage(join(dir, "disk.raw"), 40 * (1 << 20) + 512, 30, 11);

  for (const { name, qemu, compressed } of CASES) {
    describe(name, () => {
      const container = join(dir, `${name.replace(/\W+/g, "-")}.img`);
      for (const to of ["raw", "qcow2", "vhd", "vmdk"] as ImageFormat[]) {
        it(`to ${to}: qemu-img compare says identical${to === "qcow2" ? ", check clean" : ""}`, {
          timeout: 60_000,
        }, async () => {
          if (to === "raw") {
            const made = await qemuImg("convert", "-f", "raw", ...qemu, raw, container);
            expect(made.stderr).toBe("");
          }
          const { device, bytesRead } = await countingDevice(container);
          const out = join(dir, `${name.replace(/\W+/g, "-")}.to.${to}`);
          try {
            let reached = 0;
            const image = await containerFileImage(device, container, {
              zeroUnit: 4096,
              onCopyProgress: (done) => {
                reached = done;
              },
            });
            const before = bytesRead();
            await writeImageFile(out, (sink) =>
              writeImage(compressed ? image : withoutData(image), to, sink, {
                codecs: nodeCodecs,
              }),
            );
            // Stored data goes file to file: not even a table is read while copying.
            if (compressed) expect(bytesRead()).toBeGreaterThan(before);
            else expect(bytesRead()).toBe(before);
            // Progress reaches the end of the last data copied (the raw file's last byte is data).
            const runs = image.dataRuns as number[];
            expect(reached).toBe((runs.at(-2) as number) + (runs.at(-1) as number));
          } finally {
            await device.close();
          }
          // A fixed VHD has no magic at its start: qemu-img would probe it as raw.
          const compare = await qemuImg(
            "compare",
            "-f",
            qemu[qemu.indexOf("-O") + 1] as string,
            container,
            out,
          );
          expect(compare.stdout).toContain("Images are identical");
          expect(compare.exitCode).toBe(0);
          if (to === "qcow2") expect((await qemuImg("check", out)).exitCode).toBe(0);
        });
      }
    });
  }

  it("the runs leave out the file's holes and units of zeros", async () => {
    const container = join(dir, "zeros.qcow2");
    const zeroed = join(dir, "zeros.raw");
    // 1 MiB of data whose second 64 KiB cluster is written zeros: qemu-img allocates it (-S 0).
    const fd = openSync(zeroed, "w");
    writeSync(fd, new Uint8Array(1 << 20).fill(9), 0, 1 << 20, 0);
    writeSync(fd, new Uint8Array(65536), 0, 65536, 65536);
    writeSync(fd, new Uint8Array([1]), 0, 1, (4 << 20) - 1);
    closeSync(fd);
    expect((await qemuImg("convert", "-S", "0", "-O", "qcow2", zeroed, container)).exitCode).toBe(
      0,
    );
    const device = await openImage(await FileDevice.open(container, { readOnly: true }));
    try {
      const allocated = await device.dataRuns();
      expect(allocated).toEqual([0, 4 << 20]); // -S 0: every cluster
      const image = await containerFileImage(device, container, { zeroUnit: 65536 });
      expect(image.dataRuns).toEqual([
        0,
        65536,
        131072,
        (1 << 20) - 131072,
        (4 << 20) - 65536,
        65536,
      ]);
      const whole = await containerFileImage(device, container, { zeroUnit: 0 });
      // No zero scan: only the file's holes (qemu-img writes zeros as data: none).
      expect(
        (whole.dataRuns as number[]).reduce((a, b, i) => (i % 2 ? a + b : a), 0),
      ).toBeGreaterThan(1 << 20);
    } finally {
      await device.close();
    }
  });

  it("a VHD block's sectors whose bitmap bit is clear read as zeros, not as what the file holds there", async () => {
    const vhd = join(dir, "bitmap.vhd");
    expect((await qemuImg("convert", "-O", "vpc", raw, vhd)).exitCode).toBe(0);
    const device = await openImage(await FileDevice.open(vhd, { readOnly: true }));
    const expected = join(dir, "bitmap.expected.raw");
    const got = join(dir, "bitmap.got.raw");
    try {
      // Clear the bits of sectors 0-15 in the first block: the bitmap comes right before its data.
      const [first] = await device.hostRanges(0, 512);
      expect(first?.kind).toBe("file");
      const fd = openSync(vhd, "r+");
      writeSync(fd, new Uint8Array(2), 0, 2, (first?.host as number) - 512);
      closeSync(fd);
      const pieces = await device.hostRanges(0, 16 * 512 + 512);
      expect(pieces.map((p) => [p.offset, p.length, p.kind])).toEqual([
        [0, 8192, "zero"],
        [8192, 512, "file"],
      ]);
      const image = await containerFileImage(device, vhd);
      await writeImageFile(got, (sink) => writeImage(withoutData(image), "raw", sink));
      // The device's own reading, through JavaScript.
      const streamed = { size: device.size, data: device.chunks() };
      await writeImageFile(expected, (sink) => writeImage(streamed, "raw", sink));
    } finally {
      await device.close();
    }
    const a = readFileSync(expected);
    expect(a.subarray(0, 8192).every((b) => b === 0)).toBe(true);
    expect(Buffer.compare(a, readFileSync(got))).toBe(0);
  });

  it("vdisk convert of a container into a file (-o FILE or > FILE): the same disk", async () => {
    const container = join(dir, "cli.qcow2");
    expect((await qemuImg("convert", "-O", "qcow2", raw, container)).exitCode).toBe(0);
    const out = join(dir, "cli.raw");
    expect(await main(["convert", "--to", "raw", container, "-o", out], memoryIo())).toBe(0);
    expect((await qemuImg("compare", "-f", "raw", "-F", "raw", raw, out)).exitCode).toBe(0);
    // Standard output redirected to a file: the same.
    const toStdout = join(dir, "cli-stdout.raw");
    const fd = openSync(toStdout, "w");
    try {
      const io = { ...memoryIo(), stdoutFd: fd };
      expect(await main(["convert", "--to", "qcow2", container], io)).toBe(0);
    } finally {
      closeSync(fd);
    }
    expect((await qemuImg("compare", container, toStdout)).exitCode).toBe(0);
    expect((await qemuImg("check", toStdout)).exitCode).toBe(0);
    const head = Buffer.alloc(4);
    const check = openSync(toStdout, "r");
    readSync(check, head, 0, 4, 0);
    closeSync(check);
    expect(head.toString("latin1")).toBe("QFI\xfb");
  });
});
