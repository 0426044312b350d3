// Images that QEMU itself modified in place (qemu-io): partial clusters and grains, zero clusters,
// discards, a compressed cluster, an internal snapshot, qcow2 version 2. We read each as
// `qemu-img convert -O raw` does.
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, expect, it } from "vitest";
import { describeWithTools } from "../../../test/harness/tools.ts";
import { imageEqualsRaw, qemuImg, scratchDir } from "./_test_tools.ts";

const { dir, cleanup } = scratchDir("vdisk-qemu-io-");
afterAll(cleanup);

const WRITES = [
  "write -P 0x41 0 2M",
  "write -P 0x42 3000k 7k",
  "write -z 512k 128k",
  "discard 1M 64k",
  "write -P 0x43 40M 1536",
  "write -P 0x44 63M 1M",
];

const IMAGES: { name: string; format: string; options: string[]; extra?: string[] }[] = [
  { name: "qcow2 v2", format: "qcow2", options: ["-o", "compat=0.10"] },
  { name: "qcow2 v3, 4 KiB clusters", format: "qcow2", options: ["-o", "cluster_size=4096"] },
  {
    name: "qcow2 v3 with a compressed cluster",
    format: "qcow2",
    options: [],
    extra: ["write -c -P 0x45 20M 64k"],
  },
  { name: "vhd dynamic", format: "vpc", options: ["-o", "subformat=dynamic"] },
  { name: "vmdk monolithicSparse", format: "vmdk", options: ["-o", "subformat=monolithicSparse"] },
];

describeWithTools(
  ["qemu-img", "qemu-io"],
  "images QEMU wrote into read back as QEMU reads them",
  () => {
    for (const image of IMAGES) {
      it(image.name, async () => {
        const file = join(dir, `${image.name.replace(/\W+/g, "-")}.img`);
        expect(
          (await qemuImg("create", "-f", image.format, ...image.options, file, "64M")).exitCode,
        ).toBe(0);
        const commands = [...WRITES, ...(image.extra ?? [])].flatMap((c) => ["-c", c]);
        const io = await execa("qemu-io", ["-f", image.format, ...commands, file], {
          reject: false,
        });
        expect(io.exitCode, io.stderr).toBe(0);
        if (image.format === "qcow2") {
          expect((await qemuImg("snapshot", "-c", "before", file)).exitCode).toBe(0);
          await execa("qemu-io", ["-f", "qcow2", "-c", "write -P 0x46 0 64k", file]);
        }
        const raw = `${file}.raw`;
        expect(
          (await qemuImg("convert", "-f", image.format, "-O", "raw", file, raw)).exitCode,
        ).toBe(0);
        expect(await imageEqualsRaw(file, raw)).toBe(true);
      });
    }
  },
);
