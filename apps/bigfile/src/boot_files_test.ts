import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeToFile } from "@bigfile/blockdev/node";
import { mkfs } from "@bigfile/ext3fs/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  grubCfgText,
  makeTestImage,
  payload,
  scratch,
  setPartitionSectors,
} from "./_test_images.ts";
import { BootFilesError, bootFiles } from "./boot_files.ts";
import { inspectImage } from "./inspect_image.ts";

const KERNEL = payload(300_000, 1);
const INITRD = payload(120_000, 2);

describe("bootFiles", () => {
  let tmp: Awaited<ReturnType<typeof scratch>>;
  let image: string;

  beforeAll(async () => {
    tmp = await scratch("boot-files");
    image = await makeTestImage(tmp.path, {
      files: {
        "boot/vmlinuz": KERNEL,
        "boot/initrd.img": INITRD,
        "boot/grub/grub.cfg": grubCfgText(),
        "boot/grub/menu.lst": "title Legacy\nkernel /boot/vmlinuz legacy\n",
      },
    });
  });
  afterAll(() => tmp.remove());

  it("copies the default entry's kernel and initrd and gives its arguments", async () => {
    const out = join(tmp.path, "out");
    const r = await bootFiles(image, { outDir: out });
    expect(r).toMatchObject({
      kernel: join(out, "vmlinuz"),
      initrd: join(out, "initrd.img"),
      args: "root=/dev/sda1 ro console=ttyS0",
      entry: 0,
      title: "Linux",
      config: "/boot/grub/grub.cfg",
      partition: 1,
      image: { kernel: "/boot/vmlinuz", initrd: "/boot/initrd.img" },
      bytes: { kernel: KERNEL.length, initrd: INITRD.length },
    });
    expect(new Uint8Array(await readFile(r.kernel))).toEqual(KERNEL);
    expect(new Uint8Array(await readFile(r.initrd as string))).toEqual(INITRD);
    // Written through temporary files: nothing else is left behind.
    expect((await readdir(out)).sort()).toEqual(["initrd.img", "vmlinuz"]);
  });

  it("takes --entry by number or title; an entry without initrd gives null", async () => {
    const out = join(tmp.path, "out1");
    const r = await bootFiles(image, { outDir: out, entry: "Linux (single)" });
    expect(r).toMatchObject({
      entry: 1,
      initrd: null,
      args: "root=/dev/sda1 ro console=ttyS0 single",
    });
    expect(await readdir(out)).toEqual(["vmlinuz"]);
  });

  it("replaces an existing file atomically, and never follows a planted symlink", async () => {
    const out = join(tmp.path, "out2");
    await bootFiles(image, { outDir: out, write: false });
    await writeFile(join(tmp.path, "victim"), "keep me");
    await import("node:fs/promises").then((fs) => fs.mkdir(out, { recursive: true }));
    await symlink(join(tmp.path, "victim"), join(out, "vmlinuz"));
    await bootFiles(image, { outDir: out });
    expect(await readFile(join(tmp.path, "victim"), "utf8")).toBe("keep me");
    expect(new Uint8Array(await readFile(join(out, "vmlinuz")))).toEqual(KERNEL);
  });

  it("with write: false writes nothing", async () => {
    const out = join(tmp.path, "none");
    const r = await bootFiles(image, { outDir: out, write: false });
    expect(r.bytes.kernel).toBe(KERNEL.length);
    await expect(readdir(out)).rejects.toThrow();
  });

  it("says which entries there are when --entry names none", async () => {
    const error = await bootFiles(image, { entry: 5, outDir: tmp.path }).catch((e) => e);
    expect(error).toBeInstanceOf(BootFilesError);
    expect(error.code).toBe("no-entry");
    expect(error.message).toBe(
      "/boot/grub/grub.cfg: no entry 5 (the menu has 0 'Linux', 1 'Linux (single)')",
    );
  });

  it("reads menu.lst when there is no grub.cfg", async () => {
    const dir = join(tmp.path, "legacy");
    const img = await makeTestImage(dir, {
      files: {
        "boot/vmlinuz": KERNEL,
        "boot/grub/menu.lst":
          "default 0\ntitle Legacy\nroot (hd0,0)\nkernel /boot/vmlinuz root=/dev/xvda1 ro\n",
      },
    });
    const r = await bootFiles(img, { outDir: join(dir, "out") });
    expect(r).toMatchObject({
      config: "/boot/grub/menu.lst",
      args: "root=/dev/xvda1 ro",
      initrd: null,
    });
  });

  it("refuses a missing kernel or initrd before writing anything", async () => {
    const dir = join(tmp.path, "missing");
    const img = await makeTestImage(dir, {
      files: { "boot/vmlinuz": KERNEL, "boot/grub/grub.cfg": grubCfgText() },
    });
    const out = join(dir, "out");
    const error = await bootFiles(img, { outDir: out }).catch((e) => e);
    expect(error.code).toBe("missing-file");
    expect(error.message).toBe(
      "/boot/grub/grub.cfg entry 0 'Linux' names the initrd /boot/initrd.img, which is not a file in partition 1",
    );
    await expect(readdir(out)).rejects.toThrow();
  });

  it("says what each partition held when there is no configuration", async () => {
    const dir = join(tmp.path, "noconfig");
    const img = await makeTestImage(dir, { files: { "etc/hostname": "x\n" } });
    const error = await bootFiles(img).catch((e) => e);
    expect(error.code).toBe("no-config");
    expect(error.message).toMatch(
      /^no bootloader configuration found \(partition 1: no grub.cfg or menu.lst\); looked for \/boot\/grub\/grub.cfg, /,
    );
  });

  it("still reads a filesystem whose partition was shrunk under it (as pygrub does)", async () => {
    const dir = join(tmp.path, "shrunk");
    const img = await makeTestImage(dir, {
      files: {
        "boot/vmlinuz": KERNEL,
        "boot/initrd.img": INITRD,
        "boot/grub/grub.cfg": grubCfgText(),
      },
    });
    await setPartitionSectors(img, 1, 4096);
    const r = await bootFiles(img, { outDir: join(dir, "out") });
    expect(new Uint8Array(await readFile(r.kernel))).toEqual(KERNEL);
  });

  it("reads a bare filesystem image (no partition table) as pygrub does: the whole disk", async () => {
    const dir = join(tmp.path, "bare");
    const root = join(dir, "root");
    await mkdir(join(root, "boot", "grub"), { recursive: true });
    await writeFile(join(root, "boot", "vmlinuz"), KERNEL);
    await writeFile(join(root, "boot", "grub", "menu.lst"), "title T\nkernel /boot/vmlinuz x\n");
    const fsImage = join(dir, "root.ext3");
    await writeToFile((await mkfs([root], { size: 4 << 20 })).chunks(), fsImage);
    const r = await bootFiles(fsImage, { outDir: join(dir, "out") });
    expect(r).toMatchObject({ partition: 0, config: "/boot/grub/menu.lst", args: "x" });
    const report = await inspectImage(fsImage);
    expect(report.table).toBeNull();
    expect(report.partitions[0]).toMatchObject({ number: 0, kind: "disk" });
    expect(report.partitions[0]?.filesystem?.type).toBe("ext3");
    expect(report.ok).toBe(true);
  });
});
