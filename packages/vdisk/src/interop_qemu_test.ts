// The oracle: qemu-img checks, compares and reads what we write, and we read what it writes.
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeWithTools } from "../../../test/harness/tools.ts";
import { convertFile, imageEqualsRaw, qemuImg, scatteredImage, scratchDir } from "./_test_tools.ts";
import type { ImageFormat } from "./image_device.ts";
import { MemorySink } from "./image_sink.ts";
import { rawFileImage } from "./raw_file_image.ts";
import type { WriteImageOptions } from "./write_image.ts";
import { writeImage } from "./write_image.ts";

const { dir, cleanup } = scratchDir("vdisk-qemu-");
afterAll(cleanup);

interface Case {
  format: ImageFormat;
  options?: WriteImageOptions;
  /** qemu-img's format name and the options to make the same kind of image. */
  qemu: string;
  qemuOptions: string[];
  /** Size qemu-img reports for a raw image of `size` bytes. */
  virtualSize: (size: number) => number;
  /** Whether qemu-img check knows the format. */
  checkable: boolean;
}

const CASES: Case[] = [
  { format: "qcow2", qemu: "qcow2", qemuOptions: [], virtualSize: (s) => s, checkable: true },
  {
    format: "qcow2",
    options: { compress: true },
    qemu: "qcow2",
    qemuOptions: ["-c"],
    virtualSize: (s) => s,
    checkable: true,
  },
  {
    format: "qcow2",
    options: { clusterSize: 4096, compress: true },
    qemu: "qcow2",
    qemuOptions: ["-c", "-o", "cluster_size=4096"],
    virtualSize: (s) => s,
    checkable: true,
  },
  {
    format: "qcow2",
    options: { clusterSize: 2 << 20 },
    qemu: "qcow2",
    qemuOptions: ["-o", "cluster_size=2M"],
    virtualSize: (s) => s,
    checkable: true,
  },
  {
    format: "vhd",
    qemu: "vpc",
    qemuOptions: ["-o", "subformat=dynamic"],
    virtualSize: (s) => Math.ceil(s / 512) * 512,
    checkable: false,
  },
  {
    format: "vhd-fixed",
    qemu: "vpc",
    qemuOptions: ["-o", "subformat=fixed"],
    virtualSize: (s) => Math.ceil(s / 2 ** 20) * 2 ** 20,
    checkable: false,
  },
  {
    format: "vmdk",
    qemu: "vmdk",
    qemuOptions: ["-o", "subformat=monolithicSparse"],
    virtualSize: (s) => Math.ceil(s / 512) * 512,
    checkable: true,
  },
  {
    format: "vmdk-stream",
    qemu: "vmdk",
    qemuOptions: ["-o", "subformat=streamOptimized"],
    virtualSize: (s) => Math.ceil(s / 512) * 512,
    checkable: true,
  },
];

function label(c: Case): string {
  return `${c.format}${c.options ? ` ${JSON.stringify(c.options)}` : ""}`;
}

const IMAGES = [
  { name: "small", size: 100 * (1 << 20) + 3 * 512, pieces: 20 },
  { name: "seed-size sparse 4 GB", size: 4141875200, pieces: 40 },
];

describeWithTools(["qemu-img"], "qemu-img agrees", () => {
  for (const image of IMAGES) {
    describe(image.name, () => {
      const raw = join(dir, `${image.name.replace(/\W+/g, "-")}.raw`);
      scatteredImage(raw, image.size, image.pieces, image.size % 9973);
      for (const [format, qemu] of [
        ["qcow2", "qcow2"],
        ["vhd", "vpc"],
        ["vmdk", "vmdk"],
      ] as const) {
        it(`${format} streamed to a pipe (tables planned from the data runs): qemu-img agrees`, {
          timeout: 180_000,
        }, async () => {
          const sink = new MemorySink({ seekable: false });
          await writeImage(rawFileImage(raw), format, sink);
          const out = join(dir, `streamed-${format}`);
          writeFileSync(out, sink.bytes());
          if (qemu !== "vpc") {
            const check = await qemuImg("check", "-f", qemu, out);
            expect(check.stdout).toMatch(/No errors were found/);
            expect(check.exitCode).toBe(0);
          }
          const compare = await qemuImg("compare", "-f", "raw", "-F", qemu, raw, out);
          expect(compare.stdout).toMatch(/Images are identical/);
          expect(compare.exitCode).toBe(0);
        });
      }
      for (const c of CASES) {
        const out = join(dir, `out-${c.format}`);
        // Both ways a raw file is converted: the kernel copying file to file
        // (blockdev's native addon), and the data read and written by JavaScript.
        for (const native of [true, false]) {
          it(`${label(c)}${native ? "" : " (read and written by JavaScript)"}: check clean, compare identical, info right`, {
            timeout: 180_000,
          }, async () => {
            await convertFile(raw, c.format, out, c.options ?? {}, { native });
            if (c.checkable) {
              const check = await qemuImg("check", "-f", c.qemu, out);
              expect(check.stderr + check.stdout).toMatch(/No errors were found/);
              expect(check.exitCode).toBe(0);
            }
            const compare = await qemuImg("compare", "-f", "raw", "-F", c.qemu, raw, out);
            expect(compare.stdout).toMatch(/Images are identical/);
            expect(compare.exitCode).toBe(0);
            const info = JSON.parse(
              (await qemuImg("info", "--output=json", "-f", c.qemu, out)).stdout,
            );
            expect(info.format).toBe(c.qemu);
            expect(info["virtual-size"]).toBe(c.virtualSize(image.size));
            // Sparse: the image costs about its data, not its virtual size.
            expect(statSync(out).blocks * 512).toBeLessThan(64 << 20);
          });
        }
        it(`${label(c)}: qemu-img convert's output reads back the same`, {
          timeout: 180_000,
        }, async () => {
          const theirs = `${out}.qemu`;
          const made = await qemuImg(
            "convert",
            "-f",
            "raw",
            "-O",
            c.qemu,
            ...c.qemuOptions,
            raw,
            theirs,
          );
          expect(made.exitCode, made.stderr).toBe(0);
          expect(await imageEqualsRaw(theirs, raw)).toBe(true);
        });
      }
    });
  }
});
