// The installed image boots: QEMU (TCG) runs GRUB from the MBR, which reads
// grub.cfg from the ext3 partition and prints a marker on the serial console;
// with two core sectors wiped, the Reed-Solomon parity still gets it there.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileDevice } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootQemu, haveTools } from "../../../test/harness/mod.ts";
import { sfdiskImage } from "./_test_tools.ts";
import { main } from "./cli.ts";
import { inspectBoot } from "./inspect_boot.ts";

const MARKER = "GRUB-MBR-BOOTED-FROM-EXT3";
const SIZE = 32 << 20;

let dir = "";
let ready = false;
let image = "";

beforeAll(async () => {
  ready = haveTools(["qemu-system-x86_64", "grub-mkimage", "sfdisk", "mke2fs", ["tar", "tar"]]);
  if (!ready) return;
  dir = await mkdtemp(join(tmpdir(), "grub-mbr-qemu-"));
  // /boot/grub from `grub-mbr files`, with a grub.cfg that prints the marker.
  const root = join(dir, "root");
  await mkdir(root);
  const config = join(dir, "grub.cfg");
  await writeFile(
    config,
    `serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\necho ${MARKER}\nhalt\n`,
  );
  const io = memoryIo();
  expect(await main(["files", "--config", config], io), io.stderrText()).toBe(0);
  await execa("tar", ["-x", "-C", root], { input: Buffer.from(io.stdoutBytes()) });
  image = join(dir, "disk.img");
  await sfdiskImage(image, SIZE, "label: dos\nstart=2048, type=83, bootable\n");
  const blocks = (SIZE - (1 << 20)) / 1024;
  await execa("mke2fs", [
    "-q",
    "-F",
    "-t",
    "ext3",
    "-d",
    root,
    "-E",
    `offset=${1 << 20}`,
    image,
    String(blocks),
  ]);
  const install = memoryIo();
  expect(await main(["install", "--in-place", image], install), install.stderrText()).toBe(0);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Boots `disk` from its MBR; resolves with the serial log once the marker shows (or QEMU ends). */
async function boot(disk: string): Promise<string> {
  return (await bootQemu(disk, { memoryMiB: 256, stopOn: [MARKER] })).log;
}

describe("QEMU boots the installed image", () => {
  it("into GRUB, which reads grub.cfg from the ext3 partition", async (ctx) => {
    if (!ready) return ctx.skip();
    expect(await boot(image)).toContain(MARKER);
  }, 90_000);

  it("still, with two core.img sectors wiped (Reed-Solomon repairs them)", async (ctx) => {
    if (!ready) return ctx.skip();
    const dev = await FileDevice.open(image);
    // core.img starts at sector 1; its protected part begins in sector 2: wipe sectors 10 and 11.
    await dev.write(10 * 512, new Uint8Array(1024).fill(0xa5));
    const report = await inspectBoot(dev);
    await dev.close();
    expect(report.grub?.core.integrity).toBe("repairable");
    expect(report.grub?.core.damagedBytes).toBeGreaterThan(900);
    expect(await boot(image)).toContain(MARKER);
  }, 90_000);
});
