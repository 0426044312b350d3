import { describe, expect, it } from "vitest";
import { grubLegacyMenu } from "./grub_legacy_menu.ts";

describe("grubLegacyMenu", () => {
  it("names the kernel, initrd and root the way GRUB Legacy and pygrub read them", () => {
    const menu = grubLegacyMenu({ cmdline: "root=/dev/xvda1 ro", serial: true, timeout: 3 });
    expect(menu.split("\n")).toEqual([
      "# Written by grub-mbr: read by GRUB Legacy and by pygrub.",
      "default 0",
      "timeout 3",
      "serial --unit=0 --speed=115200",
      "terminal --timeout=0 serial console",
      "",
      "title Linux",
      "\troot (hd0,0)",
      "\tkernel /boot/vmlinuz root=/dev/xvda1 ro console=ttyS0,115200",
      "\tinitrd /boot/initrd.img",
      "",
    ]);
  });

  it("leaves out the initrd when there is none, and refuses relative paths", () => {
    expect(grubLegacyMenu({ initrd: null })).not.toMatch(/initrd/);
    expect(() => grubLegacyMenu({ kernel: "boot/vmlinuz" })).toThrow(/absolute/);
    expect(() => grubLegacyMenu({ root: "hd0" })).toThrow(/\(hd0,0\)/);
  });
});
