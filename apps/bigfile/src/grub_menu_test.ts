import { describe, expect, it } from "vitest";
import { parseGrubMenu, pickMenuEntry } from "./grub_menu.ts";

describe("parseGrubMenu: grub.cfg as pygrub reads it", () => {
  it("reads entries, kernel arguments, initrd and the default", () => {
    const menu = parseGrubMenu(
      `# comment
set default="1"
set timeout=5
serial --unit=0 --speed=115200
menuentry 'Debian GNU/Linux' --class debian {
\tinsmod ext2
\tset root='hd0,msdos1'
\tlinux\t/boot/vmlinuz-6.1 root=/dev/sda1 ro  quiet
\tinitrd /boot/initrd.img-6.1
}
menuentry "Rescue" {
  linux16 (hd0,msdos1)/boot/vmlinuz
}
`,
      "grub2",
    );
    expect(menu.default).toBe(1);
    expect(menu.timeout).toBe(5);
    expect(menu.entries).toEqual([
      {
        title: "Debian GNU/Linux",
        kernel: "/boot/vmlinuz-6.1",
        args: "root=/dev/sda1 ro  quiet",
        initrd: "/boot/initrd.img-6.1",
        root: "hd0,msdos1",
      },
      { title: "Rescue", kernel: "/boot/vmlinuz", args: "" },
    ]);
    expect(pickMenuEntry(menu)).toBe(1);
  });

  it("flattens submenus, skips functions, reads saved_entry and next_entry as 0", () => {
    const menu = parseGrubMenu(
      `function load_video {
  insmod all_video
}
if [ "\${next_entry}" ] ; then
   set default="\${next_entry}"
else
   set default="\${saved_entry}"
fi
menuentry 'A' {
  linux /a
}
submenu 'More' {
  menuentry 'B' {
    linux /b x=1
    initrd /b.img
  }
}
`,
      "grub2",
    );
    expect(menu.default).toBe(0);
    expect(menu.entries.map((e) => [e.title, e.kernel, e.args])).toEqual([
      ["A", "/a", ""],
      ["B", "/b", "x=1"],
    ]);
  });

  it("warns about a non-numeric default (pygrub boots entry 0) and menuentry lines it skips", () => {
    const menu = parseGrubMenu(
      "set default='Linux'\nmenuentry Linux {\nmenuentry 'X' {\nlinux /x\n}\n",
      "grub2",
    );
    expect(menu.default).toBe(0);
    expect(menu.warnings).toHaveLength(2);
    expect(menu.warnings[0]).toMatch(/line 1: default 'Linux' is not a number/);
    expect(menu.warnings[1]).toMatch(/line 2: pygrub reads only/);
  });

  it("throws SyntaxError where pygrub gives up", () => {
    expect(() => parseGrubMenu("menuentry 'A' {\nmenuentry 'B' {\n}\n}\n", "grub2")).toThrow(
      /line 2: a menuentry inside another/,
    );
    expect(() => parseGrubMenu("menuentry 'A' {\nlinux /a\n", "grub2")).toThrow(/not closed/);
    expect(() => parseGrubMenu("}\n", "grub2")).toThrow(/closes no menuentry/);
    expect(() => parseGrubMenu("set default=-1\n", "grub2")).toThrow(SyntaxError);
  });
});

describe("parseGrubMenu: menu.lst", () => {
  it("reads default, timeout, title, root, kernel and initrd", () => {
    const menu = parseGrubMenu(
      `default=1
timeout 5
# comment
title Debian, kernel 6.1
\troot (hd0,0)
\tkernel /boot/vmlinuz root=/dev/xvda1 ro console=hvc0
\tinitrd /boot/initrd.img
title Old
kernel (hd0,0)/boot/vmlinuz.old
`,
      "legacy",
    );
    expect(menu.default).toBe(1);
    expect(menu.timeout).toBe(5);
    expect(menu.entries).toEqual([
      {
        title: "Debian, kernel 6.1",
        root: "(hd0,0)",
        kernel: "/boot/vmlinuz",
        args: "root=/dev/xvda1 ro console=hvc0",
        initrd: "/boot/initrd.img",
      },
      { title: "Old", kernel: "/boot/vmlinuz.old", args: "" },
    ]);
  });
});

describe("pickMenuEntry", () => {
  const menu = parseGrubMenu("default 7\ntitle A\nkernel /a\ntitle B\nkernel /b\n", "legacy");

  it("falls back to entry 0 when the default is past the end, as pygrub does", () => {
    expect(pickMenuEntry(menu)).toBe(0);
  });

  it("takes a number or a title", () => {
    expect(pickMenuEntry(menu, 1)).toBe(1);
    expect(pickMenuEntry(menu, "1")).toBe(1);
    expect(pickMenuEntry(menu, "B")).toBe(1);
  });

  it("names the entries when there is no such one", () => {
    expect(() => pickMenuEntry(menu, 2)).toThrow("no entry 2 (the menu has 0 'A', 1 'B')");
    expect(() => pickMenuEntry(menu, "C")).toThrow(RangeError);
    expect(() => pickMenuEntry(parseGrubMenu("", "legacy"))).toThrow(/no entries/);
  });
});
