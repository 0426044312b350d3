import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { MemoryDevice } from "@bigfile/blockdev";
import { inspectBoot, installGrub } from "@bigfile/grub-mbr";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { haveTools } from "../../../test/harness/tools.ts";
import { parseGrubPrefix, readGrubPrefix } from "./_grub_prefix.ts";
import { scratch } from "./_test_images.ts";

describe("parseGrubPrefix", () => {
  it("splits device, partition and path", () => {
    expect(parseGrubPrefix("(hd0,msdos1)/boot/grub")).toEqual({
      prefix: "(hd0,msdos1)/boot/grub",
      device: "hd0,msdos1",
      partition: 1,
      path: "/boot/grub",
    });
    expect(parseGrubPrefix("(hd0,5)/grub").partition).toBe(5);
    expect(parseGrubPrefix("(hd0)/boot/grub").partition).toBeUndefined();
    expect(parseGrubPrefix("/boot/grub")).toEqual({ prefix: "/boot/grub", path: "/boot/grub" });
  });
});

const GRUB_DIR = "/usr/lib/grub/i386-pc";

describe.runIf(haveTools(["grub-mkimage", GRUB_DIR]))("readGrubPrefix", () => {
  for (const [prefix, rs] of [
    ["(hd0,msdos2)/grub", true],
    ["(hd0,msdos1)/boot/grub", false],
  ] as const) {
    it(`reads ${prefix} out of grub-mkimage's core.img (${rs ? "with" : "without"} Reed-Solomon)`, async () => {
      const tmp = await scratch("prefix");
      try {
        const core = join(tmp.path, "core.img");
        await execa("grub-mkimage", [
          ...["-O", "i386-pc", "-d", GRUB_DIR, "-p", prefix, "-o", core],
          ...["biosdisk", "part_msdos", "ext2"],
        ]);
        const disk = new MemoryDevice(new Uint8Array(2 << 20));
        const sector0 = new Uint8Array(512);
        sector0.set([0x80, 0, 0, 0, 0x83, 0, 0, 0, 0, 8, 0, 0, 0, 8, 0, 0], 0x1be);
        sector0[510] = 0x55;
        sector0[511] = 0xaa;
        await disk.write(0, sector0);
        await installGrub(disk, await readFile(join(GRUB_DIR, "boot.img")), await readFile(core), {
          rsCodes: rs,
        });
        const boot = await inspectBoot(disk);
        const found = await readGrubPrefix(disk, boot.grub?.core as never);
        expect(found?.prefix).toBe(prefix);
      } finally {
        await tmp.remove();
      }
    });
  }
});
