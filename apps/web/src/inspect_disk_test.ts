// The page's inspection against `bigfile inspect --json` on the same images
// (made by sfdisk, mke2fs and bigfile build), read through a BlobDevice over
// the file as a browser would read a File.
import { openAsBlob } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BlobDevice } from "@bigfile/blockdev";
import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithTools, type TempDir, tempDir } from "../../../test/harness/mod.ts";
import { inspectDisk } from "./inspect_disk.ts";

const bigfile = fileURLToPath(new URL("../../bigfile/bin/bigfile.js", import.meta.url));

const CLI_ONLY_CHECKS = ["menu", "missing-boot-file", "grub-prefix"];

interface CliPartition {
  number: number;
  start: number;
  size: number;
  offset: number;
  length: number;
  type: number;
  bootable: boolean;
  filesystem?: Record<string, unknown>;
}

/** Both reports in one shape: what the page shows that `bigfile inspect` shows too. */
async function compare(image: string): Promise<void> {
  const cli = await execa(bigfile, ["inspect", image, "--json"], { reject: false });
  const expected = JSON.parse(cli.stdout);
  const device = new BlobDevice(await openAsBlob(image));
  const report = await inspectDisk(device);

  expect(report.bytes).toBe(expected.bytes);
  expect(report.geometry).toEqual(expected.geometry);
  expect(
    report.volumes.map((v) => ({
      number: v.number,
      start: v.start,
      size: v.sectors,
      offset: v.offset,
      length: v.bytes,
      type: v.type,
      bootable: v.bootable,
      filesystem: v.filesystem,
    })),
  ).toEqual(
    (expected.partitions as CliPartition[]).map((p) => {
      const { freeBlocks: _, ...fs } = (p.filesystem ?? {}) as Record<string, unknown>;
      return {
        number: p.number,
        start: p.start,
        size: p.size,
        offset: p.offset,
        length: p.length,
        type: p.type,
        bootable: p.bootable,
        filesystem: p.filesystem ? fs : undefined,
      };
    }),
  );
  expect(report.boot.bootCode).toBe(expected.boot.bootCode);
  expect(report.boot.bootSignature).toBe(expected.boot.bootSignature);
  expect(report.boot.grub?.core).toEqual(expected.boot.grub?.core);
  // The page leaves GRUB's menus and prefix to bigfile inspect (see the README's limits).
  const shared = (expected.checks as { level: string; code: string }[]).filter(
    (c) => !CLI_ONLY_CHECKS.includes(c.code),
  );
  const errors = (checks: { level: string }[]) => checks.filter((c) => c.level === "error").length;
  expect(errors(report.checks)).toBe(errors(shared));
  expect(report.checks.length).toBe(shared.length);
  expect(cli.exitCode).toBe(errors(expected.checks) > 0 ? 1 : 0);
  // Metadata only: a few KiB per volume, whatever the image's size.
  expect(device.bytesRead).toBeLessThan(2 ** 20);
}

describeWithTools(
  ["sfdisk", ["mke2fs", "e2fsprogs"], "grub-mkimage", "/usr/lib/grub/i386-pc"],
  "inspectDisk agrees with bigfile inspect",
  () => {
    let tmp: TempDir;
    beforeAll(async () => {
      tmp = await tempDir("web-inspect");
    });
    afterAll(async () => {
      await tmp?.remove();
    });

    it("on a filesystem larger than its partition (an error in both)", async () => {
      const image = join(tmp.path, "shrunk.img");
      await execa("truncate", ["-s", "64M", image]);
      await execa("sfdisk", ["-q", image], {
        input: "start=2048, size=20480, type=83, bootable\n",
      });
      await execa("mke2fs", ["-q", "-F", "-t", "ext3", "-E", "offset=1048576", image, "20M"]);
      await compare(image);
      const report = await inspectDisk(new BlobDevice(await openAsBlob(image)));
      expect(report.checks).toEqual([
        {
          level: "error",
          message:
            "Partition 1: the filesystem's superblock says 20971520 bytes but the partition table gives 10485760: one of them is lying",
        },
      ]);
      expect(report.volumes[0]?.reader).toBeDefined();
    });

    it("on a bare ext4 filesystem without a partition table", async () => {
      const image = join(tmp.path, "bare.img");
      await execa("mke2fs", ["-q", "-F", "-t", "ext4", "-L", "bare", image, "32M"]);
      await compare(image);
    });

    it("on an image bigfile build made, with GRUB in the gap", async () => {
      const root = join(tmp.path, "root");
      await execa("mkdir", ["-p", join(root, "etc")]);
      const image = join(tmp.path, "built.img");
      const built = await execa(
        bigfile,
        ["build", "-o", image, "--size", "64M", "--align", "mib", "--rootfs", root],
        { reject: false },
      );
      expect(built.exitCode, built.stderr).toBe(0);
      await compare(image);
    });
  },
);
