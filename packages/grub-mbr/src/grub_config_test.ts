import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { haveTools, runPygrub } from "../../../test/harness/mod.ts";
import { sfdiskImage } from "./_test_tools.ts";
import { grubConfig } from "./grub_config.ts";

describe("grubConfig", () => {
  it("writes the dialect GRUB and pygrub share", () => {
    expect(grubConfig({ serial: true, cmdline: "root=/dev/sda1 ro" })).toBe(
      [
        "# Written by grub-mbr: read by GRUB 2 and by pygrub.",
        "set default=0",
        "set timeout=0",
        "serial --unit=0 --speed=115200",
        "terminal_input serial",
        "terminal_output serial",
        "menuentry 'Linux' {",
        "\tlinux /boot/vmlinuz root=/dev/sda1 ro console=ttyS0,115200",
        "\tinitrd /boot/initrd.img",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("leaves out the initrd and the serial console when asked", () => {
    const cfg = grubConfig({ initrd: null, kernel: "/vmlinuz", timeout: 5, title: "Debian" });
    expect(cfg).toContain("menuentry 'Debian' {\n\tlinux /vmlinuz root=/dev/sda1 ro\n}");
    expect(cfg).toContain("set timeout=5");
    expect(cfg).not.toContain("initrd");
    expect(cfg).not.toContain("serial");
  });

  it("keeps an explicit console= argument", () => {
    expect(grubConfig({ serial: true, cmdline: "console=ttyS0,9600" })).toContain(
      "linux /boot/vmlinuz console=ttyS0,9600\n",
    );
  });

  it("refuses what pygrub or GRUB would misread", () => {
    expect(() => grubConfig({ kernel: "boot/vmlinuz" })).toThrow(TypeError);
    expect(() => grubConfig({ title: "it's" })).toThrow(TypeError);
    expect(() => grubConfig({ cmdline: "root=$root" })).toThrow(TypeError);
    expect(() => grubConfig({ timeout: -1 })).toThrow(RangeError);
  });

  it("is read by pygrub (kernel, ramdisk and arguments)", async (ctx) => {
    if (!haveTools(["pygrub", "script", "mke2fs", "sfdisk"])) return ctx.skip();
    const dir = await mkdtemp(join(tmpdir(), "grub-mbr-pygrub-"));
    try {
      const root = join(dir, "root");
      await mkdir(join(root, "boot", "grub"), { recursive: true });
      await writeFile(join(root, "boot", "vmlinuz"), "the kernel\n");
      await writeFile(join(root, "boot", "initrd.img"), "the initrd\n");
      await writeFile(
        join(root, "boot", "grub", "grub.cfg"),
        grubConfig({ serial: true, cmdline: "root=/dev/sda1 ro quiet" }),
      );
      const image = join(dir, "disk.img");
      await sfdiskImage(image, 16 << 20, "label: dos\nstart=2048, type=83\n");
      await execa("mke2fs", [
        "-q",
        "-F",
        "-t",
        "ext3",
        "-d",
        root,
        "-E",
        "offset=1048576",
        image,
        String(15 * 1024),
      ]);
      const r = await runPygrub(image);
      expect(r.args, r.output).toBe("root=/dev/sda1 ro quiet console=ttyS0,115200");
      expect(r.kernel?.sha256).toBe(sha256("the kernel\n"));
      expect(r.ramdisk?.sha256).toBe(sha256("the initrd\n"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
