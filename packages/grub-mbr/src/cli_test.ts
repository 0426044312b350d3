import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  grubBiosSetupGolden,
  grubMkimage,
  haveTools,
  requireTool,
} from "../../../test/harness/mod.ts";
import { sfdiskImage } from "./_test_tools.ts";
import { main } from "./cli.ts";

let dir = "";
let ready = false;

beforeAll(async () => {
  ready = haveTools(["grub-mkimage", "sfdisk"]);
  dir = await mkdtemp(join(tmpdir(), "grub-mbr-cli-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("grub-mbr", () => {
  it("--help teaches with examples", async () => {
    const io = memoryIo();
    expect(await main(["--help"], io)).toBe(0);
    expect(io.stdoutText()).toContain("grub-mbr install < disk.img > booting.img");
    const sub = memoryIo();
    expect(await main(["install", "--help"], sub)).toBe(0);
    expect(sub.stdoutText()).toContain("--no-rs-codes");
  });

  it("names the package to install when GRUB's files are missing", async () => {
    const io = memoryIo({ stdin: new Uint8Array(512) });
    expect(await main(["install", "--grub-dir", join(dir, "nowhere")], io)).toBe(1);
    expect(io.stderrText()).toMatch(
      /^grub-mbr: GRUB's i386-pc files .* not in .*nowhere; install grub-pc-bin \(Debian, Ubuntu\) or grub2-pc-modules \(Fedora\)/,
    );
    const files = memoryIo({ env: { GRUB_DIR: join(dir, "nowhere") } });
    expect(await main(["files"], files)).toBe(1);
    expect(files.stderrText()).toContain("grub-pc-bin");
  });

  it("refuses usage mistakes with exit code 2", async () => {
    expect(await main(["install", "--in-place"], memoryIo())).toBe(2);
    expect(await main(["install", "--json"], memoryIo())).toBe(2);
    const tty = memoryIo({ stdoutIsTTY: true });
    expect(await main(["install", "x.img", "--boot-img", "a", "--core-img", "b"], tty)).toBe(2);
    expect(await main(["install"], memoryIo({ stdinIsTTY: true }))).toBe(2);
    const tty2 = memoryIo({ stdoutIsTTY: true });
    expect(await main(["files"], tty2)).toBe(2);
    expect(tty2.stderrText()).toContain("terminal");
  });

  it("files: the /boot/grub payload as a tar", async (ctx) => {
    if (!ready || !requireTool("tar", "tar")) return ctx.skip();
    const io = memoryIo();
    expect(
      await main(["files", "--serial", "--cmdline", "root=/dev/sda1 ro", "--no-initrd"], io),
      io.stderrText(),
    ).toBe(0);
    const list = String(
      (await execa("tar", ["-t"], { input: Buffer.from(io.stdoutBytes()) })).stdout,
    ).split("\n");
    expect(list.slice(0, 3)).toEqual(["boot/", "boot/grub/", "boot/grub/i386-pc/"]);
    expect(list).toContain("boot/grub/i386-pc/normal.mod");
    expect(list).toContain("boot/grub/i386-pc/command.lst");
    expect(list).toContain("boot/grub/grub.cfg");
    const cfg = String(
      (await execa("tar", ["-xO", "boot/grub/grub.cfg"], { input: Buffer.from(io.stdoutBytes()) }))
        .stdout,
    );
    expect(cfg).toContain("\tlinux /boot/vmlinuz root=/dev/sda1 ro console=ttyS0,115200\n}");
    const mod = String(
      (
        await execa("tar", ["-xO", "boot/grub/i386-pc/ext2.mod"], {
          input: Buffer.from(io.stdoutBytes()),
          encoding: "latin1",
        })
      ).stdout,
    );
    expect(mod).toBe(await readFile("/usr/lib/grub/i386-pc/ext2.mod", "latin1"));
  });

  it("install on GPT builds core.img with part_gpt for (hd0,gpt2), as grub-bios-setup embeds it", async (ctx) => {
    if (!ready || !haveTools(["grub-bios-setup", "unshare"])) return ctx.skip();
    const ours = join(dir, "gpt.img");
    const theirs = join(dir, "gpt-theirs.img");
    await sfdiskImage(
      ours,
      8 << 20,
      "label: gpt\nstart=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649\nstart=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n",
    );
    await copyFile(ours, theirs);
    const core = join(dir, "gpt-core.img");
    await grubMkimage(core, {
      prefix: "(hd0,gpt2)/boot/grub",
      modules: ["biosdisk", "part_msdos", "part_gpt", "ext2"],
    });
    expect((await grubBiosSetupGolden(theirs, { coreImg: core })).exitCode).toBe(0);
    const io = memoryIo();
    expect(await main(["install", "--in-place", ours, "--json"], io), io.stderrText()).toBe(0);
    const report = JSON.parse(io.stdoutText());
    expect(report).toMatchObject({
      scheme: "gpt",
      biosBootPartition: 1,
      kernelSector: 2048,
      sectors: 108,
      coreSectors: 54,
    });
    expect(Buffer.compare(await readFile(ours), await readFile(theirs))).toBe(0);
  });

  it("inspect reads an installed image from a file or standard input", async (ctx) => {
    if (!ready) return ctx.skip();
    const image = join(dir, "inspect.img");
    await sfdiskImage(image, 4 << 20, "label: dos\nstart=63, type=83\n");
    const before = memoryIo();
    expect(await main(["inspect", image], before)).toBe(0);
    expect(before.stdoutText()).toContain("boot code: no boot code (zeros)");
    expect(before.stdoutText()).toContain("embedding area: MBR gap, sectors 1-62 (62 sectors)");
    expect(await main(["install", "--in-place", image, "--partition", "1"], memoryIo())).toBe(0);
    const io = memoryIo();
    expect(await main(["inspect", image, "--json"], io)).toBe(0);
    const report = JSON.parse(io.stdoutText());
    expect(report).toMatchObject({
      bootSignature: true,
      bootCode: "grub2",
      grub: {
        kernelSector: 1,
        bootDrive: 255,
        hardDiskPatch: true,
        core: { sector: 1, sectors: 62, integrity: "intact" },
      },
      embeddingArea: { scheme: "msdos", start: 1, end: 63 },
    });
    const piped = memoryIo({ stdin: await readFile(image) });
    expect(await main(["inspect"], piped)).toBe(0);
    expect(piped.stdoutText()).toContain(
      "core.img integrity: intact (Reed-Solomon parity of 4722 bytes checks)",
    );
  });
});
