import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FileDevice } from "@bigfile/blockdev/node";
import { installGrub } from "@bigfile/grub-mbr";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTools } from "../../../test/harness/tools.ts";
import {
  grubCfgText,
  makeTestImage,
  payload,
  scratch,
  setPartitionSectors,
} from "./_test_images.ts";
import { BootFilesError, bootFiles } from "./boot_files.ts";
import { formatInspection } from "./format_inspection.ts";
import { inspectImage } from "./inspect_image.ts";

const BOOT = {
  "boot/vmlinuz": payload(10_000, 1),
  "boot/initrd.img": payload(5_000, 2),
  "boot/grub/grub.cfg": grubCfgText(),
};

describe("inspectImage", () => {
  let tmp: Awaited<ReturnType<typeof scratch>>;
  beforeAll(async () => {
    tmp = await scratch("inspect");
  });
  afterAll(() => tmp.remove());

  it("passes an image whose table, filesystem and menu agree", async () => {
    const image = await makeTestImage(join(tmp.path, "good"), { files: BOOT, label: "root" });
    const r = await inspectImage(image);
    expect(r.checks).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.bytes).toBe(16 << 20);
    expect(r.geometry).toMatchObject({ heads: 255, sectorsPerTrack: 63, cylinders: 2 });
    expect(r.table?.partitiontable.partitions).toEqual([
      expect.objectContaining({ start: 2048, size: 16384, type: "83", bootable: true }),
    ]);
    expect(r.partitions[0]?.filesystem).toMatchObject({
      type: "ext3",
      blockCount: 8192,
      blockSize: 1024,
      bytes: 8 << 20,
      label: "root",
      state: "clean",
    });
    expect(r.partitions[0]?.filesystem?.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.boot.bootCode).toBe("none");
    expect(r.menus).toEqual([
      expect.objectContaining({
        partition: 1,
        config: "/boot/grub/grub.cfg",
        kind: "grub2",
        pygrub: true,
        default: 0,
      }),
    ]);
    expect(r.menus[0]?.entries[0]).toEqual({
      title: "Linux",
      kernel: "/boot/vmlinuz",
      args: "root=/dev/sda1 ro console=ttyS0",
      initrd: "/boot/initrd.img",
    });
    const text = formatInspection(r);
    expect(text).toMatch(/disk\.img1 \*\s+2048 18431\s+16384\s+8M 83 Linux/);
    expect(text).toMatch(
      /partition 1: ext3, 8192 blocks of 1024 bytes \(8388608 bytes\), label 'root'/,
    );
    expect(text).toMatch(/0 'Linux': kernel \/boot\/vmlinuz, initrd \/boot\/initrd.img/);
    expect(text).toMatch(/ok: table, filesystems and boot files agree\n$/);
  });

  it("fails a filesystem larger than its partition, naming both numbers", async () => {
    const image = await makeTestImage(join(tmp.path, "shrunk"), { files: BOOT });
    await setPartitionSectors(image, 1, 12000);
    const r = await inspectImage(image);
    expect(r.ok).toBe(false);
    // (sfdisk would rewrite the CHS fields too: here only the LBA size changed, a warning.)
    expect(r.checks.filter((c) => c.code !== "table")).toEqual([
      {
        level: "error",
        code: "fs-larger-than-partition",
        partition: 1,
        message:
          "partition 1: the filesystem's superblock says 8192 blocks of 1024 bytes (8388608 bytes) but the partition table gives 12000 sectors (6144000 bytes), 2244608 bytes too few: either the partition table or the filesystem's superblock is lying",
      },
    ]);
    // The menu is still read, as far as the superblock says.
    expect(r.menus[0]?.entries).toHaveLength(2);
  });

  it("warns (only) about space wasted at the end of a partition", async () => {
    const image = await makeTestImage(join(tmp.path, "wasted"), {
      files: BOOT,
      partitionSize: 12 << 20,
    });
    const r = await inspectImage(image);
    expect(r.ok).toBe(true);
    expect(r.checks).toEqual([
      expect.objectContaining({
        level: "warning",
        code: "fs-smaller-than-partition",
        message: expect.stringMatching(/ends 4194304 bytes before the partition does/),
      }),
    ]);
  });

  it("fails a bootable partition without a filesystem, and menus naming missing files", async () => {
    const image = await makeTestImage(join(tmp.path, "missing"), {
      files: { "boot/vmlinuz": payload(100, 3), "boot/grub/grub.cfg": grubCfgText() },
    });
    let r = await inspectImage(image);
    expect(r.checks.map((c) => [c.level, c.code, c.message])).toEqual([
      [
        "error",
        "missing-boot-file",
        "partition 1: /boot/grub/grub.cfg entry 0 'Linux' names the initrd /boot/initrd.img, which is not a file in partition 1",
      ],
    ]);
    const disk = await FileDevice.open(image);
    await disk.write(2048 * 512, new Uint8Array(64 << 10));
    await disk.close();
    r = await inspectImage(image);
    expect(r.partitions[0]?.content).toBe("empty");
    expect(r.checks).toEqual([
      expect.objectContaining({
        level: "error",
        code: "bootable-empty",
        message:
          "partition 1 is marked bootable but holds no filesystem (its first sectors are zeros)",
      }),
    ]);
  });

  it.runIf(haveTools(["grub-mkimage", "/usr/lib/grub/i386-pc"]))(
    "checks the prefix compiled into GRUB's core.img against the partitions",
    async () => {
      const dir = "/usr/lib/grub/i386-pc";
      const bootImg = await readFile(join(dir, "boot.img"));
      const results: Record<string, string[]> = {};
      for (const prefix of [
        "(hd0,msdos1)/boot/grub",
        "(hd0,msdos1)/grub",
        "(hd0,msdos2)/boot/grub",
      ]) {
        const work = join(tmp.path, `grub-${results ? Object.keys(results).length : 0}`);
        const image = await makeTestImage(work, { files: BOOT });
        const core = join(work, "core.img");
        await execa("grub-mkimage", [
          ...[
            "-O",
            "i386-pc",
            "-d",
            dir,
            "-p",
            prefix,
            "-o",
            core,
            "biosdisk",
            "part_msdos",
            "ext2",
          ],
        ]);
        const disk = await FileDevice.open(image);
        await installGrub(disk, bootImg, await readFile(core));
        await disk.close();
        const r = await inspectImage(image);
        expect(r.boot.bootCode).toBe("grub2");
        expect(r.boot.prefix?.prefix).toBe(prefix);
        results[prefix] = r.checks.map((c) => c.message);
      }
      expect(results).toEqual({
        "(hd0,msdos1)/boot/grub": [],
        "(hd0,msdos1)/grub": [
          "GRUB's core.img looks for its modules and grub.cfg in (hd0,msdos1)/grub, but partition 1 has no /grub",
        ],
        "(hd0,msdos2)/boot/grub": [
          "GRUB's core.img looks for its modules and grub.cfg in (hd0,msdos2)/boot/grub, but the disk has no partition 2",
        ],
      });
    },
  );

  it("reads damaged images without an exception: every fault is a check or a one-line error", async () => {
    const image = await makeTestImage(join(tmp.path, "fuzz"), { files: BOOT });
    const good = new Uint8Array(await readFile(image));
    const bad = join(tmp.path, "fuzz", "bad.img");
    let seed = 7;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (let round = 0; round < 40; round++) {
      const bytes = good.slice();
      for (let i = 0, n = 1 + (rnd() % 40); i < n; i++) {
        const region = rnd() % 3;
        const at =
          region === 0
            ? rnd() % 512
            : region === 1
              ? 2048 * 512 + (rnd() % 8192)
              : rnd() % bytes.length;
        bytes[at] = rnd() & 0xff;
      }
      await writeFile(bad, bytes);
      const report = await inspectImage(bad);
      expect(typeof report.ok).toBe("boolean");
      await bootFiles(bad, { write: false }).catch((error) => {
        if (!(error instanceof BootFilesError)) throw error;
      });
    }
  }, 60_000);
});
