// vdisk on the seed's own image: `bigfile build --size 4141875200 --align
// cylinder` from the Debian root fixture, converted to every format and
// option; qemu-img checks, compares and describes each, and what qemu-img
// writes in each format reads back through vdisk to the same bytes. The fixed
// VHD's footer is checked field by field against the VHD spec and Azure's
// rules (fixed type, virtual size a whole number of MiB, file = size + 512).
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  bootFixtures,
  debianRoot,
  describeWithTools,
  ROOT,
  type TempDir,
  tempDir,
} from "../harness/mod.ts";

const bin = (name: string) =>
  name === "bigfile"
    ? fileURLToPath(new URL("../../apps/bigfile/bin/bigfile.js", import.meta.url))
    : fileURLToPath(new URL(`../../packages/${name}/bin/${name}.js`, import.meta.url));

const SEED = 4141875200; // exactly 3950 MiB

interface Case {
  name: string;
  vdisk: string[];
  qemu: string;
  qemuOptions: string[];
  /** Whether qemu-img check knows the format (it has no checker for VHD). */
  checkable: boolean;
}

const CASES: Case[] = [
  { name: "qcow2", vdisk: ["--to", "qcow2"], qemu: "qcow2", qemuOptions: [], checkable: true },
  {
    name: "qcow2 -c",
    vdisk: ["--to", "qcow2", "-c"],
    qemu: "qcow2",
    qemuOptions: ["-c"],
    checkable: true,
  },
  {
    name: "qcow2 4K clusters",
    vdisk: ["--to", "qcow2", "--cluster-size", "4K"],
    qemu: "qcow2",
    qemuOptions: ["-o", "cluster_size=4096"],
    checkable: true,
  },
  {
    name: "qcow2 2M clusters",
    vdisk: ["--to", "qcow2", "--cluster-size", "2M"],
    qemu: "qcow2",
    qemuOptions: ["-o", "cluster_size=2M"],
    checkable: true,
  },
  {
    name: "vhd",
    vdisk: ["--to", "vhd"],
    qemu: "vpc",
    qemuOptions: ["-o", "subformat=dynamic"],
    checkable: false,
  },
  {
    name: "vhd-fixed",
    vdisk: ["--to", "vhd-fixed"],
    qemu: "vpc",
    qemuOptions: ["-o", "subformat=fixed"],
    checkable: false,
  },
  {
    name: "vmdk",
    vdisk: ["--to", "vmdk"],
    qemu: "vmdk",
    qemuOptions: ["-o", "subformat=monolithicSparse"],
    checkable: true,
  },
  {
    name: "vmdk-stream",
    vdisk: ["--to", "vmdk-stream"],
    qemu: "vmdk",
    qemuOptions: ["-o", "subformat=streamOptimized"],
    checkable: true,
  },
];

describeWithTools(
  [ROOT, "qemu-img", "debootstrap", "grub-mkimage", "/usr/lib/grub/i386-pc"],
  "vdisk on the seed's 4 GB image",
  () => {
    let tmp: TempDir;
    let raw: string;
    let buildArgs: (output: string) => string[];

    beforeAll(async () => {
      const [fx, debian] = await Promise.all([bootFixtures(), debianRoot()]);
      tmp = await tempDir("vdisk-seed");
      raw = join(tmp.path, "seed.img");
      buildArgs = (output: string) => [
        "build",
        "-q",
        "-o",
        output,
        "--size",
        String(SEED),
        "--align",
        "cylinder",
        "--rootfs",
        debian.root,
        "--kernel",
        fx.vmlinuz,
        "--initrd",
        fx.initrd,
        "--seed",
        "vdisk-seed",
      ];
      const built = await execa(bin("bigfile"), buildArgs(raw), { reject: false });
      expect(built.exitCode, built.stderr).toBe(0);
      expect((await stat(raw)).size).toBe(SEED);
    }, 900_000);

    afterAll(async () => {
      await tmp?.remove();
    });

    for (const c of CASES) {
      it(`${c.name}: qemu-img check clean, compare identical, info right; qemu-img's own ${c.name} reads back through vdisk`, {
        timeout: 600_000,
      }, async () => {
        const ours = join(tmp.path, `ours-${c.name.replace(/\W+/g, "-")}`);
        const made = await execa(bin("vdisk"), ["convert", ...c.vdisk, raw, "-o", ours], {
          reject: false,
        });
        expect(made.exitCode, made.stderr).toBe(0);
        expect(made.stderr).toBe("");
        if (c.checkable) {
          const check = await execa("qemu-img", ["check", "-f", c.qemu, ours], { reject: false });
          expect(check.stdout, check.stderr).toMatch(/No errors were found/);
          expect(check.exitCode).toBe(0);
        }
        const compare = await execa("qemu-img", ["compare", "-f", "raw", "-F", c.qemu, raw, ours], {
          reject: false,
        });
        expect(compare.stdout, compare.stderr).toMatch(/Images are identical/);
        expect(compare.exitCode).toBe(0);
        const info = JSON.parse(
          (await execa("qemu-img", ["info", "--output=json", "-f", c.qemu, ours])).stdout,
        );
        expect(info.format).toBe(c.qemu);
        // 4141875200 is a whole number of sectors and of MiB: no rounding in any format.
        expect(info["virtual-size"]).toBe(SEED);
        // vdisk's own description agrees.
        const described = JSON.parse((await execa(bin("vdisk"), ["info", ours, "--json"])).stdout);
        expect(described.virtualSize).toBe(SEED);

        const theirs = join(tmp.path, `theirs-${c.name.replace(/\W+/g, "-")}`);
        const converted = await execa(
          "qemu-img",
          ["convert", "-f", "raw", "-O", c.qemu, ...c.qemuOptions, raw, theirs],
          { reject: false },
        );
        expect(converted.exitCode, converted.stderr).toBe(0);
        const back = `${theirs}.raw`;
        // A fixed VHD has no header to detect: name the format.
        const from = c.name === "vhd-fixed" ? ["--from", "vhd-fixed"] : [];
        const read = await execa(
          bin("vdisk"),
          ["convert", "--to", "raw", ...from, theirs, "-o", back],
          { reject: false },
        );
        expect(read.exitCode, read.stderr).toBe(0);
        const same = await execa("qemu-img", ["compare", "-f", "raw", "-F", "raw", raw, back], {
          reject: false,
        });
        expect(same.stdout, same.stderr).toMatch(/Images are identical/);
        // qemu-img sizes a VHD by its CHS geometry (4142186496 here): a longer disk whose
        // tail is zeros, which compare above accepted; the other formats keep the size.
        const backSize = (await stat(back)).size;
        if (c.qemu === "vpc") expect(backSize).toBeGreaterThanOrEqual(SEED);
        else expect(backSize).toBe(SEED);
      });
    }

    it("bigfile build --format qcow2 (clusters placed as the copy threads write them) is the same disk, as small as qemu-img's", {
      timeout: 600_000,
    }, async () => {
      const ours = join(tmp.path, "built.qcow2");
      const made = await execa(bin("bigfile"), [...buildArgs(ours), "--format", "qcow2"], {
        reject: false,
      });
      expect(made.exitCode, made.stderr).toBe(0);
      const check = await execa("qemu-img", ["check", ours], { reject: false });
      expect(check.stdout, check.stderr).toMatch(/No errors were found/);
      const compare = await execa("qemu-img", ["compare", "-F", "qcow2", raw, ours], {
        reject: false,
      });
      expect(compare.stdout, compare.stderr).toMatch(/Images are identical/);
      const theirs = join(tmp.path, "built-theirs.qcow2");
      await execa("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, theirs]);
      const [a, b] = [(await stat(ours)).size, (await stat(theirs)).size];
      expect(Math.abs(a / b - 1), `${a} vs qemu-img's ${b}`).toBeLessThan(0.01);
    });

    it("the fixed VHD is what Azure takes: footer fields, 1 MiB virtual size, file = size + 512", {
      timeout: 600_000,
    }, async () => {
      const vhd = join(tmp.path, "azure.vhd");
      const made = await execa(bin("vdisk"), ["convert", "--to", "vhd-fixed", raw, "-o", vhd], {
        reject: false,
      });
      expect(made.exitCode, made.stderr).toBe(0);
      const size = (await stat(vhd)).size;
      expect(size).toBe(SEED + 512);
      const file = await open(vhd, "r");
      const footer = Buffer.alloc(512);
      try {
        await file.read(footer, 0, 512, size - 512);
      } finally {
        await file.close();
      }
      expect(footer.subarray(0, 8).toString("latin1")).toBe("conectix");
      expect(footer.readUInt32BE(8) & 2).toBe(2); // features: the reserved bit, always set
      expect(footer.readUInt32BE(12)).toBe(0x00010000); // file format version 1.0
      expect(footer.readBigUInt64BE(16)).toBe(0xffffffffffffffffn); // data offset: none (fixed)
      expect(Number(footer.readBigUInt64BE(40))).toBe(SEED); // original size
      expect(Number(footer.readBigUInt64BE(48))).toBe(SEED); // current size
      expect(SEED % (1 << 20)).toBe(0); // Azure: the virtual size is a whole number of MiB
      expect(footer.readUInt32BE(60)).toBe(2); // disk type: fixed
      // Checksum: the one's complement of the byte sum with the checksum field as zero.
      let sum = 0;
      for (let i = 0; i < 512; i++) if (i < 64 || i >= 68) sum += footer[i] as number;
      expect(footer.readUInt32BE(64)).toBe(~sum >>> 0);
      // CHS geometry as the spec's algorithm gives it for the size (65535*16*255 sectors at most).
      const cylinders = footer.readUInt16BE(56);
      const heads = footer[58] as number;
      const spt = footer[59] as number;
      expect(cylinders * heads * spt).toBeLessThanOrEqual(SEED / 512);
      expect(heads).toBeGreaterThan(0);
      expect(spt).toBeGreaterThan(0);
      const info = JSON.parse(
        (await execa("qemu-img", ["info", "--output=json", "-f", "vpc", vhd])).stdout,
      );
      expect(info["virtual-size"]).toBe(SEED);
    });
  },
);
