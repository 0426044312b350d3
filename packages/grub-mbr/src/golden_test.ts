// Byte-for-byte equality with Debian's grub-bios-setup on the same images.
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileDevice, readFile as readChunks } from "@bigfile/blockdev/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grubBiosSetupGolden, grubMkimage, haveTools } from "../../../test/harness/mod.ts";
import { sfdiskImage } from "./_test_tools.ts";
import { installGrub, installGrubStream } from "./install_grub.ts";
import type { GrubInstallOptions } from "./plan_grub_install.ts";

const BOOT_IMG = "/usr/lib/grub/i386-pc/boot.img";
const SIZE = 8 << 20;

let dir = "";
let ready = false;
let coreSmall = "";
let coreGpt = "";
let coreBig = "";

beforeAll(async () => {
  ready = haveTools(["grub-bios-setup", "unshare", "grub-mkimage", "sfdisk"]);
  if (!ready) return;
  dir = await mkdtemp(join(tmpdir(), "grub-mbr-golden-"));
  coreSmall = join(dir, "core.img");
  coreGpt = join(dir, "core-gpt.img");
  coreBig = join(dir, "core-big.img");
  const mk = (out: string, prefix: string, modules: string[]) =>
    grubMkimage(out, { prefix, modules });
  await mk(coreSmall, "(hd0,msdos1)/boot/grub", ["biosdisk", "part_msdos", "ext2"]);
  await mk(coreGpt, "(hd0,gpt2)/boot/grub", ["biosdisk", "part_msdos", "part_gpt", "ext2"]);
  await mk(coreBig, "(hd0,msdos1)/boot/grub", [
    "biosdisk",
    "part_msdos",
    "ext2",
    "normal",
    "linux",
    "echo",
    "configfile",
    "search",
    "all_video",
    "gfxterm",
    "png",
  ]);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Case {
  name: string;
  script: string;
  core?: () => string;
  grubArgs?: string[];
  options?: GrubInstallOptions;
  prepare?: (image: string) => Promise<void>;
}

const MSDOS_2048 = "label: dos\nlabel-id: 0x12345678\nstart=2048, type=83, bootable\n";
const MSDOS_63 = "label: dos\nlabel-id: 0xdeadbeef\nstart=63, type=83, bootable\n";
const LOGICAL =
  "label: dos\nlabel-id: 0x0badcafe\nstart=8192, size=4096, type=83\nstart=100, size=8000, type=5\nstart=300, size=1000, type=83\nstart=1400, size=1000, type=82\n";
const GPT_BIOS =
  "label: gpt\nlabel-id: 3B1C8B0E-4F3C-4E57-9A0B-1C2D3E4F5A6B\nstart=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649\nstart=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n";
const GPT_SMALL_BIOS =
  "label: gpt\nfirst-lba: 34\nstart=34, size=60, type=21686148-6449-6E6F-744E-656564454649\nstart=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n";

async function writeAt(path: string, offset: number, bytes: Uint8Array): Promise<void> {
  const dev = await FileDevice.open(path);
  await dev.write(offset, bytes);
  await dev.close();
}

const cases: Case[] = [
  { name: "MBR aligned at 1 MiB", script: MSDOS_2048 },
  {
    name: "MBR aligned at 1 MiB, --no-rs-codes",
    script: MSDOS_2048,
    grubArgs: ["--no-rs-codes"],
    options: { rsCodes: false },
  },
  { name: "MBR at sector 63", script: MSDOS_63 },
  {
    name: "MBR at sector 63, --no-rs-codes",
    script: MSDOS_63,
    grubArgs: ["--no-rs-codes"],
    options: { rsCodes: false },
  },
  { name: "MBR with logical partitions below the first primary", script: LOGICAL },
  { name: "GPT with a 1 MiB BIOS boot partition", script: GPT_BIOS, core: () => coreGpt },
  { name: "GPT with a 60-sector BIOS boot partition", script: GPT_SMALL_BIOS, core: () => coreGpt },
  {
    name: "GPT, --no-rs-codes",
    script: GPT_BIOS,
    core: () => coreGpt,
    grubArgs: ["--no-rs-codes"],
    options: { rsCodes: false },
  },
  { name: "big core.img split into Reed-Solomon blocks", script: MSDOS_2048, core: () => coreBig },
  {
    name: "--allow-floppy",
    script: MSDOS_63,
    grubArgs: ["--allow-floppy"],
    options: { allowFloppy: true },
  },
  {
    name: "sectors used by other software are skipped (two blocklists)",
    script: MSDOS_63,
    prepare: async (image) => {
      await writeAt(image, 5 * 512, new TextEncoder().encode("ZISD"));
      await writeAt(
        image,
        40 * 512,
        new Uint8Array([0xd4, 0x41, 0xa0, 0xf5, 0x03, 0x00, 0x03, 0x00]),
      );
    },
  },
  {
    name: "a BPB and boot code already in sector 0",
    script: MSDOS_2048,
    prepare: async (image) => {
      const junk = new Uint8Array(440);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 37 + 11) & 0xff;
      await writeAt(image, 0, junk);
    },
  },
  {
    name: "foreign data in the gap with --force",
    script: MSDOS_63,
    options: { force: true },
    prepare: async (image) => {
      const junk = new Uint8Array(62 * 512);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 7 + 3) & 0xff;
      await writeAt(image, 512, junk);
    },
  },
];

describe("grub-mbr install equals grub-bios-setup byte for byte", () => {
  for (const c of cases) {
    it(c.name, async (ctx) => {
      if (!ready) return ctx.skip();
      const theirs = join(dir, `theirs-${cases.indexOf(c)}.img`);
      const ours = join(dir, `ours-${cases.indexOf(c)}.img`);
      await sfdiskImage(theirs, SIZE, c.script);
      if (c.prepare) await c.prepare(theirs);
      await copyFile(theirs, ours);
      const before = join(dir, `before-${cases.indexOf(c)}.img`);
      await copyFile(theirs, before);
      const core = c.core ? c.core() : coreSmall;
      const r = await grubBiosSetupGolden(theirs, {
        bootImg: BOOT_IMG,
        coreImg: core,
        extraArgs: c.grubArgs ?? [],
      });
      expect(r.exitCode, r.stderr).toBe(0);
      const dev = await FileDevice.open(ours);
      try {
        await installGrub(dev, await readFile(BOOT_IMG), await readFile(core), c.options ?? {});
      } finally {
        await dev.close();
      }
      const a = await readFile(theirs);
      const b = await readFile(ours);
      expect(firstDifference(a, b)).toBe(-1);
      // The filter gives the same bytes.
      const { output } = await installGrubStream(
        readChunks(before, { chunkSize: 65536 }),
        await readFile(BOOT_IMG),
        await readFile(core),
        c.options ?? {},
      );
      const parts: Uint8Array[] = [];
      for await (const chunk of output) parts.push(chunk);
      expect(firstDifference(Buffer.concat(parts), a)).toBe(-1);
      await Promise.all([rm(theirs), rm(ours), rm(before)]);
    });
  }

  it("re-installing over an earlier GRUB core matches grub-bios-setup", async (ctx) => {
    if (!ready) return ctx.skip();
    const theirs = join(dir, "re-theirs.img");
    const ours = join(dir, "re-ours.img");
    await sfdiskImage(theirs, SIZE, MSDOS_2048);
    expect(
      (await grubBiosSetupGolden(theirs, { bootImg: BOOT_IMG, coreImg: coreBig })).exitCode,
    ).toBe(0);
    await copyFile(theirs, ours);
    expect(
      (await grubBiosSetupGolden(theirs, { bootImg: BOOT_IMG, coreImg: coreSmall })).exitCode,
    ).toBe(0);
    const dev = await FileDevice.open(ours);
    const plan = await installGrub(dev, await readFile(BOOT_IMG), await readFile(coreSmall));
    await dev.close();
    expect(plan.replacesEarlierCore).toBe(true);
    expect(firstDifference(await readFile(theirs), await readFile(ours))).toBe(-1);
  });
});

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
