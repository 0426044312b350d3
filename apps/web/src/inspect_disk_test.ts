// The page's inspection against `bigfile inspect --json` on the same images
// (made by sfdisk, mke2fs and bigfile build, some damaged with debugfs), read
// through a BlobDevice over the file as a browser would read a File: the whole
// report, GRUB's menus and prefix included, must be equal.
import { createHash } from "node:crypto";
import { openAsBlob } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ImageInspection } from "@bigfile/bigfile/inspect";
import { BlobDevice } from "@bigfile/blockdev";
import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  describeWithTools,
  runPygrub,
  type TempDir,
  tempDir,
  withOffset,
} from "../../../test/harness/mod.ts";
import { inspectDisk } from "./inspect_disk.ts";

const bigfile = fileURLToPath(new URL("../../bigfile/bin/bigfile.js", import.meta.url));

/** Both reports on `image`: they must be equal, and the CLI's exit code must follow `ok`. */
async function compare(image: string): Promise<ImageInspection> {
  const cli = await execa(bigfile, ["inspect", image, "--json"], { reject: false });
  const expected = JSON.parse(cli.stdout) as ImageInspection;
  // stderr: nothing when ok, else one line naming the failed checks.
  if (expected.ok) expect(cli.stderr).toBe("");
  else expect(cli.stderr).toMatch(/^bigfile: [^\n]*checks? failed: [^\n]*$/);
  const device = new BlobDevice(await openAsBlob(image));
  const { volumes, ...report } = await inspectDisk(device, image);
  // Through JSON, as the CLI prints it: undefined fields drop out on both sides.
  expect(JSON.parse(JSON.stringify(report))).toEqual(expected);
  expect(cli.exitCode).toBe(expected.ok ? 0 : 1);
  // Each filesystem the report summarizes is open for the file tree.
  for (const v of volumes) {
    expect(v.reader !== undefined, `volume ${v.number}`).toBe(
      v.filesystem !== undefined && v.problem === undefined,
    );
  }
  // Metadata only: a few KiB per volume, whatever the image's size.
  expect(device.bytesRead).toBeLessThan(2 ** 20);
  return expected;
}

const KERNEL = "not a real kernel\n";
const INITRD = "not a real initrd, a little longer\n";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

const codes = (r: ImageInspection) => r.checks.map((c) => `${c.level} ${c.code}`);

describeWithTools(
  [
    "sfdisk",
    ["mke2fs", "e2fsprogs"],
    ["debugfs", "e2fsprogs"],
    "grub-mkimage",
    "/usr/lib/grub/i386-pc",
    "pygrub",
  ],
  "inspectDisk agrees with bigfile inspect",
  () => {
    let tmp: TempDir;
    let root: string;
    beforeAll(async () => {
      tmp = await tempDir("web-inspect");
      root = join(tmp.path, "root");
      await execa("mkdir", ["-p", join(root, "etc")]);
      await writeFile(join(tmp.path, "vmlinuz"), KERNEL);
      await writeFile(join(tmp.path, "initrd.img"), INITRD);
    });
    afterAll(async () => {
      await tmp?.remove();
    });

    /** `bigfile build` of a 64 MiB image with GRUB, a kernel and an initrd. */
    async function built(name: string): Promise<string> {
      const image = join(tmp.path, name);
      const r = await execa(
        bigfile,
        [
          "build",
          ...["-o", image, "--size", "64M", "--align", "mib", "--rootfs", root],
          ...["--kernel", join(tmp.path, "vmlinuz"), "--initrd", join(tmp.path, "initrd.img")],
          ...["--cmdline", "console=ttyS0 quiet"],
        ],
        { reject: false },
      );
      expect(r.exitCode, r.stderr).toBe(0);
      return image;
    }

    /** Runs debugfs write requests on partition 1 (at 1 MiB) of `image`. */
    async function debugfsWrite(image: string, request: string): Promise<void> {
      const r = await execa("debugfs", ["-w", "-R", request, withOffset(image, 1 << 20)]);
      expect(r.exitCode).toBe(0);
    }

    it("on a filesystem larger than its partition (an error in both)", async () => {
      const image = join(tmp.path, "shrunk.img");
      await execa("truncate", ["-s", "64M", image]);
      await execa("sfdisk", ["-q", image], {
        input: "start=2048, size=20480, type=83, bootable\n",
      });
      await execa("mke2fs", ["-q", "-F", "-t", "ext3", "-E", "offset=1048576", image, "20M"]);
      const report = await compare(image);
      expect(codes(report)).toEqual(["error fs-larger-than-partition"]);
    });

    it("on a bare ext4 filesystem without a partition table", async () => {
      const image = join(tmp.path, "bare.img");
      await execa("mke2fs", ["-q", "-F", "-t", "ext4", "-L", "bare", image, "32M"]);
      const report = await compare(image);
      expect(report.partitions[0]?.filesystem).toMatchObject({ type: "ext4", label: "bare" });
      expect(report.table).toBeNull();
    });

    it("on an image bigfile build made: GRUB's prefix and menu, what pygrub reads", async () => {
      const image = await built("built.img");
      const report = await compare(image);
      expect(report.checks).toEqual([]);
      expect(report.boot.prefix?.prefix).toBe("(hd0,msdos1)/boot/grub");
      // grub.cfg for GRUB 2 (what pygrub reads), menu.lst for GRUB Legacy.
      expect(report.menus.map((m) => [m.config, m.kind, m.pygrub])).toEqual([
        ["/boot/grub/grub.cfg", "grub2", true],
        ["/boot/grub/menu.lst", "legacy", false],
      ]);
      expect(report.menus[0]?.entries[0]).toMatchObject({
        kernel: "/boot/vmlinuz",
        initrd: "/boot/initrd.img",
      });
      expect(report.menus[0]?.entries[0]?.args).toMatch(/console=ttyS0 quiet/);
      // The menu pygrub reads, against pygrub: the same kernel and initrd bytes, the same arguments.
      const menu = report.menus.find((m) => m.pygrub);
      const entry = menu?.entries[menu.default ?? 0];
      const pygrub = await runPygrub(image);
      expect(pygrub.ok, pygrub.output).toBe(true);
      expect(pygrub.args).toBe(entry?.args);
      expect(pygrub.kernel?.sha256).toBe(sha256(KERNEL));
      expect(pygrub.ramdisk?.sha256).toBe(sha256(INITRD));
    });

    it("on a menu naming a kernel that is not there (an error in both)", async () => {
      const image = await built("no-kernel.img");
      await debugfsWrite(image, "rm /boot/vmlinuz");
      const report = await compare(image);
      // One error a menu: grub.cfg's and menu.lst's entries both name it.
      expect(codes(report)).toEqual(["error missing-boot-file", "error missing-boot-file"]);
      expect(report.checks[0]?.message).toMatch(
        /names the kernel \/boot\/vmlinuz, which is not a file/,
      );
    });

    it("on a core.img whose prefix names a directory that is gone (an error in both)", async () => {
      const image = await built("no-grub-dir.img");
      await debugfsWrite(image, "unlink /boot/grub");
      const report = await compare(image);
      expect(codes(report)).toContain("error grub-prefix");
      expect(report.menus).toEqual([]);
    });
  },
);
