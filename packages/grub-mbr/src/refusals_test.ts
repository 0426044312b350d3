// Every refusal: its message (GRUB's wording where grub-bios-setup has one,
// checked against the real tool) and an unchanged image.
import { createHash } from "node:crypto";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileDevice } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grubBiosSetupGolden, grubMkimage, haveTools } from "../../../test/harness/mod.ts";
import { sfdiskImage } from "./_test_tools.ts";
import { main } from "./cli.ts";

const BOOT_IMG = "/usr/lib/grub/i386-pc/boot.img";
const SIZE = 8 << 20;

let dir = "";
let ready = false;
let golden = false;
let core = "";

beforeAll(async () => {
  ready = haveTools(["grub-mkimage", "sfdisk", "mke2fs"]);
  if (!ready) return;
  golden = haveTools(["grub-bios-setup", "unshare"]);
  dir = await mkdtemp(join(tmpdir(), "grub-mbr-refuse-"));
  core = join(dir, "core.img");
  await grubMkimage(core);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function patch(path: string, offset: number, bytes: number[] | Uint8Array): Promise<void> {
  const dev = await FileDevice.open(path);
  await dev.write(offset, Uint8Array.from(bytes));
  await dev.close();
}

async function digest(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

interface Refusal {
  name: string;
  make: (path: string) => Promise<void>;
  /** Our message contains this. */
  message: RegExp;
  /** grub-bios-setup's message for the same image contains this (it refuses too). */
  grub?: string;
}

const refusals: Refusal[] = [
  {
    name: "no 0x55AA signature",
    make: async (p) => {
      await sfdiskImage(p, SIZE, "label: dos\nstart=63, type=83\n");
      await patch(p, 510, [0, 0]);
    },
    message:
      /^grub-mbr: no signature: sector 0 ends with 0x0000, not 0x55AA.*unable to identify a filesystem in hd0; safety check can't be performed/,
    grub: "unable to identify a filesystem in hd0; safety check can't be performed",
  },
  {
    name: "bad boot flag",
    make: async (p) => {
      await sfdiskImage(p, SIZE, "label: dos\nstart=63, type=83\n");
      await patch(p, 0x1be, [0x01]);
    },
    message: /^grub-mbr: bad boot flag: the partition table entry 1 has boot flag 0x01/,
    grub: "unable to identify a filesystem in hd0; safety check can't be performed",
  },
  {
    name: "a table without partitions",
    make: (p) => sfdiskImage(p, SIZE, "label: dos\n"),
    message: /^grub-mbr: the partition table holds no partitions/,
    grub: "unable to identify a filesystem in hd0; safety check can't be performed",
  },
  {
    name: "no post-MBR gap",
    make: (p) => sfdiskImage(p, SIZE, "label: dos\nstart=1, type=83\n"),
    message:
      /^grub-mbr: this msdos-style partition label has no post-MBR gap; embedding won't be possible/,
    grub: "this msdos-style partition label has no post-MBR gap; embedding won't be possible",
  },
  {
    name: "a gap smaller than core.img",
    make: (p) => sfdiskImage(p, SIZE, "label: dos\nstart=40, type=83\n"),
    message:
      /^grub-mbr: your embedding area is unusually small\. {2}core\.img won't fit in it\. \(core\.img needs 53 sectors; sectors 1-39 .* offer 39/,
    grub: "your embedding area is unusually small.  core.img won't fit in it.",
  },
  {
    name: "GPT without a BIOS boot partition",
    make: (p) =>
      sfdiskImage(p, SIZE, "label: gpt\nstart=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n"),
    message:
      /^grub-mbr: this GPT partition label contains no BIOS Boot Partition; embedding won't be possible/,
    grub: "this GPT partition label contains no BIOS Boot Partition; embedding won't be possible",
  },
  {
    name: "GPT with too small a BIOS boot partition",
    make: (p) =>
      sfdiskImage(
        p,
        SIZE,
        "label: gpt\nfirst-lba: 34\nstart=34, size=20, type=21686148-6449-6E6F-744E-656564454649\nstart=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n",
      ),
    message:
      /^grub-mbr: your BIOS Boot Partition is too small; embedding won't be possible \(core\.img needs 53 sectors; partition 1 holds 20/,
    grub: "your BIOS Boot Partition is too small; embedding won't be possible",
  },
  {
    name: "a whole-disk filesystem",
    make: async (p) => {
      await execa("truncate", ["-s", String(SIZE), p]);
      await execa("mke2fs", ["-q", "-F", "-t", "ext2", p]);
    },
    message: /^grub-mbr: File system `ext2' doesn't support embedding/,
    grub: "File system `ext2' doesn't support embedding",
  },
  {
    name: "foreign data in the gap (without --force)",
    make: async (p) => {
      await sfdiskImage(p, SIZE, "label: dos\nstart=2048, type=83\n");
      await patch(p, 30 * 512, new TextEncoder().encode("somebody's data"));
    },
    message:
      /^grub-mbr: the embedding area holds data that is not an earlier GRUB core: 1 non-zero sector where core\.img would go \(first: sector 30\); nothing was written; .*--force/,
  },
];

describe("grub-mbr install refuses and leaves the image unchanged", () => {
  for (const r of refusals) {
    it(r.name, async (ctx) => {
      if (!ready) return ctx.skip();
      const image = join(dir, `${refusals.indexOf(r)}.img`);
      await r.make(image);
      const before = await digest(image);
      const io = memoryIo();
      const code = await main(
        ["install", "--in-place", image, "--core-img", core, "--boot-img", BOOT_IMG],
        io,
      );
      expect(io.stderrText()).toMatch(r.message);
      expect(code).toBe(1);
      expect(await digest(image)).toBe(before);
      // As a filter: the same refusal, and not one byte on standard output.
      const filterIo = memoryIo({ stdin: await readFile(image) });
      expect(await main(["install", "--core-img", core, "--boot-img", BOOT_IMG], filterIo)).toBe(1);
      expect(filterIo.stderrText()).toMatch(r.message);
      expect(filterIo.stdoutBytes().length).toBe(0);
      if (r.grub && golden) {
        const copy = `${image}.grub`;
        await copyFile(image, copy);
        const theirs = await grubBiosSetupGolden(copy, { bootImg: BOOT_IMG, coreImg: core });
        expect(theirs.exitCode).not.toBe(0);
        expect(theirs.stderr).toContain(r.grub);
        expect(await digest(copy)).toBe(before);
      }
    });
  }
});

/** Extended partition at 2048 (its first EBR there), logical partitions at 4096 and 8192. */
const LOGICAL =
  "label: dos\nlabel-id: 0x0badcafe\nstart=2048, size=12000, type=5\nstart=4096, size=2048, type=83\nstart=8192, size=2048, type=83\n";
/** The first EBR's second entry: the link to the next EBR (at 2048 + 4096). */
const LINK = 2048 * 512 + 0x1ce;

const ebrRefusals: Refusal[] = [
  {
    name: "a bad boot flag in an extended boot record",
    make: (p) => patch(p, 2048 * 512 + 0x1be, [0x7f]),
    message:
      /^grub-mbr: bad boot flag: the extended boot record at sector 2048, entry 1 has boot flag 0x7F.*unable to identify a filesystem in hd0; safety check can't be performed/,
    grub: "unable to identify a filesystem in hd0; safety check can't be performed",
  },
  {
    name: "a bad boot flag on the link to the next extended boot record",
    make: (p) => patch(p, LINK, [0x01]),
    message: /^grub-mbr: bad boot flag: the extended boot record at sector 2048, entry 2 /,
    grub: "unable to identify a filesystem in hd0; safety check can't be performed",
  },
  {
    name: "a bad boot flag on an empty entry of an extended boot record",
    make: (p) => patch(p, 2048 * 512 + 0x1de, [0x01]),
    message: /^grub-mbr: bad boot flag: the extended boot record at sector 2048, entry 3 /,
    grub: "unable to identify a filesystem in hd0; safety check can't be performed",
  },
  {
    name: "a bad boot flag on an empty entry of sector 0",
    make: (p) => patch(p, 0x1ee, [0x01]),
    message: /^grub-mbr: bad boot flag: the partition table entry 4 has boot flag 0x01/,
    grub: "unable to identify a filesystem in hd0; safety check can't be performed",
  },
  {
    name: "an extended boot record without 0x55AA",
    make: (p) => patch(p, 2048 * 512 + 510, [0, 0]),
    message:
      /^grub-mbr: no signature: the extended boot record at sector 2048 does not end with 0x55AA/,
    grub: "unable to identify a filesystem in hd0; safety check can't be performed",
  },
  {
    name: "an EBR chain that loops",
    // The second EBR (sector 6144) links back to the first (relative start 0).
    make: (p) => patch(p, 6144 * 512 + 0x1ce, [0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0]),
    message: /^grub-mbr: Cannot read logical partitions: the EBR chain loops back to sector 2048/,
    grub: "loop detected",
  },
];

describe("grub-mbr install --in-place checks the logical partitions too", () => {
  for (const r of ebrRefusals) {
    it(`refuses ${r.name}`, async (ctx) => {
      if (!ready) return ctx.skip();
      const image = join(dir, `ebr-${ebrRefusals.indexOf(r)}.img`);
      await sfdiskImage(image, SIZE, LOGICAL);
      await r.make(image);
      const before = await digest(image);
      const io = memoryIo();
      expect(
        await main(
          ["install", "--in-place", image, "--core-img", core, "--boot-img", BOOT_IMG],
          io,
        ),
      ).toBe(1);
      expect(io.stderrText()).toMatch(r.message);
      expect(await digest(image)).toBe(before);
      if (r.grub && golden) {
        const theirs = await grubBiosSetupGolden(image, { bootImg: BOOT_IMG, coreImg: core });
        expect(theirs.exitCode).not.toBe(0);
        expect(theirs.stderr).toContain(r.grub);
        expect(await digest(image)).toBe(before);
      }
    });
  }

  it("accepts the same table unpatched, as grub-bios-setup does", async (ctx) => {
    if (!ready) return ctx.skip();
    const image = join(dir, "ebr-ok.img");
    await sfdiskImage(image, SIZE, LOGICAL);
    const io = memoryIo();
    expect(
      await main(["install", "--in-place", image, "--core-img", core, "--boot-img", BOOT_IMG], io),
      io.stderrText(),
    ).toBe(0);
    if (golden) {
      const copy = join(dir, "ebr-ok-theirs.img");
      await sfdiskImage(copy, SIZE, LOGICAL);
      expect((await grubBiosSetupGolden(copy, { bootImg: BOOT_IMG, coreImg: core })).exitCode).toBe(
        0,
      );
      expect(Buffer.compare(await readFile(copy), await readFile(image))).toBe(0);
    }
  });
});
