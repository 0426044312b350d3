import { describe, expect, it } from "vitest";
import { grubCfg } from "./boot_files.ts";
import { splitDev, typeOfMode } from "./compare_trees.ts";
import { e2fsckProblems, withOffset } from "./e2fsck.ts";
import { parseGuestResult } from "./guest.ts";
import { seededRandom } from "./make_tree.ts";
import { stripAnsi } from "./qemu.ts";

describe("output parsers", () => {
  it("strips GRUB's and SeaBIOS's escape codes", () => {
    const raw =
      "\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS\r\n\x1b[0;30;47mWelcome to GRUB!\r\n\x1b[H\x1b[J\x1b[1;1H  Booting `x'\r\n";
    expect(stripAnsi(raw)).toBe("SeaBIOS\nWelcome to GRUB!\n  Booting `x'\n");
  });

  it("keeps only e2fsck's problem lines", () => {
    const clean = [
      "Pass 1: Checking inodes, blocks, and sizes",
      "Pass 5: Checking group summary information",
      "disk.img: 15/15360 files (0.0% non-contiguous), 9193/61440 blocks",
      "e2fsck 1.47.0 (5-Feb-2023)",
      "",
    ].join("\n");
    expect(e2fsckProblems(clean)).toEqual([]);
    expect(
      e2fsckProblems(`${clean}\nFree blocks count wrong (52248, counted=52247).\nFix? no\n`),
    ).toEqual(["Free blocks count wrong (52248, counted=52247).", "Fix? no"]);
    expect(withOffset("a.img", 32256)).toBe("a.img?offset=32256");
    expect(withOffset("a.img")).toBe("a.img");
  });

  it("classifies modes and splits device numbers like Linux", () => {
    expect(typeOfMode(0o100644)).toBe("file");
    expect(typeOfMode(0o140755)).toBe("socket");
    expect(() => typeOfMode(0o170000)).toThrow(RangeError);
    expect(splitDev(0x0801)).toEqual({ major: 8, minor: 1 });
    // makedev(259, 70000) = (70000 & 0xff) | (259 << 8) | ((70000 & ~0xff) << 12)
    expect(splitDev((70000 & 0xff) | (259 << 8) | ((70000 & ~0xff) * 4096))).toEqual({
      major: 259,
      minor: 70000,
    });
  });

  it("parses the guest's result file", () => {
    expect(parseGuestResult("status=ok\nkernel=6.1.0-56-amd64\n")).toEqual({
      status: "ok",
      kernel: "6.1.0-56-amd64",
    });
  });

  it("writes a grub.cfg in the dialect pygrub reads", () => {
    expect(grubCfg({ cmdline: "console=ttyS0", serial: false })).toBe(
      "set default=0\nset timeout=0\nmenuentry 'bigfile test' {\n  linux /boot/vmlinuz console=ttyS0\n  initrd /boot/initrd.img\n}\n",
    );
  });

  it("gives the same random sequence for the same seed", () => {
    const a = seededRandom("x");
    const b = seededRandom("x");
    const c = seededRandom("y");
    const seqA = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(seqA);
    expect([c(), c(), c()]).not.toEqual(seqA);
  });
});
