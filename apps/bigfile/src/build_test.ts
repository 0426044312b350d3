import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SliceDevice, writeTar } from "@bigfile/blockdev";
import { FileDevice } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { FilesystemReader } from "@bigfile/ext3fs";
import { readPartitions } from "@bigfile/mbr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findBootFiles } from "./_find_boot_files.ts";
import { build } from "./build.ts";
import { loadBuildConfig } from "./build_config.ts";
import { main } from "./cli.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bigfile-build-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tree(name: string, files: Record<string, string>): Promise<string> {
  const root = join(dir, name);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), text);
  }
  await mkdir(root, { recursive: true });
  return root;
}

async function run(args: string[], env: Record<string, string> = {}) {
  const io = memoryIo({ env: { GRUB_DIR: "/nonexistent", ...env } });
  const code = await main(args, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText(), bytes: io.stdoutBytes() };
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("bigfile build (library)", () => {
  it("lays the partition and a filesystem that fills it, with grub.cfg and menu.lst naming the kernel", async () => {
    const root = await tree("lib", { "etc/hostname": "lib\n" });
    const kernel = join(dir, "vmlinuz-test");
    await writeFile(kernel, "not really a kernel");
    const out = join(dir, "lib.img");
    const notes: string[] = [];
    const report = await build({
      output: out,
      size: 64 * 2 ** 20,
      align: "mib",
      rootfs: [root],
      kernel,
      bootloader: "none",
      rootDevice: "/dev/xvda1",
      cmdline: "quiet",
      seed: "t",
      log: (m) => notes.push(m),
    });
    expect(report.partition).toMatchObject({
      start: 2048,
      offset: 1 << 20,
      sectors: 131072 - 2048,
    });
    expect(report.filesystem.bytes).toBe(report.partition.bytes);
    expect(report.bootloader.kind).toBe("none");
    expect(report.boot).toMatchObject({
      kernel: "/boot/vmlinuz",
      initrd: undefined,
      cmdline: "root=/dev/xvda1 ro quiet",
    });
    expect(statSync(out).size).toBe(64 * 2 ** 20);

    const disk = await FileDevice.open(out, { readOnly: true });
    try {
      const table = await readPartitions(disk);
      expect(table.labelId).toBe(Number(report.diskSignature));
      const fs = await FilesystemReader.open(
        new SliceDevice(disk, { offset: report.partition.offset, length: report.partition.bytes }),
      );
      const text = async (p: string) => new TextDecoder().decode(await fs.readFile(p));
      expect(await text("/etc/hostname")).toBe("lib\n");
      expect(await text("/boot/vmlinuz")).toBe("not really a kernel");
      const cfg = await text("/boot/grub/grub.cfg");
      expect(cfg).toMatch(/^\tlinux \/boot\/vmlinuz root=\/dev\/xvda1 ro quiet$/m);
      expect(cfg).not.toMatch(/initrd/);
      const menu = await text("/boot/grub/menu.lst");
      expect(menu).toMatch(/^\tkernel \/boot\/vmlinuz root=\/dev\/xvda1 ro quiet$/m);
      // No GRUB: no modules copied.
      await expect(fs.readFile("/boot/grub/i386-pc/normal.mod")).rejects.toThrow();
    } finally {
      await disk.close();
    }
  });

  it("sizes the disk to the tree with size auto, keeping the free space asked for", async () => {
    const root = await tree("auto", { "data/a": "x".repeat(300_000) });
    const out = join(dir, "auto.img");
    const report = await build({
      output: out,
      size: "auto",
      free: 8 << 20,
      rootfs: [root],
      bootloader: "none",
    });
    expect(report.filesystem.freeBlocks * report.filesystem.blockSize).toBeGreaterThanOrEqual(
      8 << 20,
    );
    expect(report.bytes).toBeLessThan(40 << 20);
    // Cylinder alignment: whole cylinders, the partition exactly the filesystem.
    expect(report.bytes % (255 * 63 * 512)).toBe(0);
    expect(report.partition.bytes).toBe(report.filesystem.bytes);
  });
});

describe("bigfile build --fs ext4", () => {
  const features = async (image: string, part: { offset: number; bytes: number }) => {
    const disk = await FileDevice.open(image);
    try {
      const slice = new SliceDevice(disk, { offset: part.offset, length: part.bytes });
      return (await FilesystemReader.open(slice)).superblock;
    } finally {
      await disk.close();
    }
  };

  it("takes mke2fs.conf's ext4 features, and -O edits them as mke2fs does", async () => {
    const root = await tree("ext4", { "etc/hostname": "ext4\n" });
    const out = join(dir, "ext4.img");
    const report = await build({
      output: out,
      size: "auto",
      rootfs: [root],
      fs: "ext4",
      bootloader: "none",
    });
    expect(report.filesystem.type).toBe("ext4");
    const sb = await features(out, report.partition);
    // extent (incompat 0x40), 64bit (0x80), flex_bg (0x200); metadata_csum (ro_compat 0x400).
    expect(sb.featureIncompat & 0x2c0).toBe(0x2c0);
    expect(sb.featureRoCompat & 0x400).toBe(0x400);

    const old = join(dir, "ext4-old.img");
    const oldReport = await build({
      output: old,
      size: "auto",
      rootfs: [root],
      fs: "ext4",
      features: "^metadata_csum,^64bit",
      bootloader: "none",
    });
    const oldSb = await features(old, oldReport.partition);
    expect(oldSb.featureIncompat & 0x2c0).toBe(0x240);
    expect(oldSb.featureRoCompat & 0x400).toBe(0);
  });
});

describe("bigfile build (command line)", () => {
  it("writes the same image to a pipe as to a file", async () => {
    const root = await tree("pipe", { "etc/hostname": "pipe\n" });
    const out = join(dir, "pipe.img");
    const file = await run([
      "build",
      "-o",
      out,
      "--size",
      "8M",
      "--rootfs",
      root,
      "--seed",
      "p",
      "-q",
    ]);
    expect(file.code, file.stderr).toBe(0);
    const piped = await run(["build", "--size", "8M", "--rootfs", root, "--seed", "p", "-q"]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.bytes.length).toBe(8 << 20);
    expect(sha(piped.bytes)).toBe(sha(readFileSync(out)));
  });

  it("a seeded build gives the same container file twice, every format (ids and time from the seed)", async () => {
    const root = await tree("seeded", { "etc/hostname": "seeded\n" });
    for (const format of ["qcow2", "vhd", "vhd-fixed", "vmdk", "vmdk-stream"]) {
      const out = join(dir, `seeded.${format}`);
      const hashes: string[] = [];
      for (let i = 0; i < 2; i++) {
        await rm(out, { force: true });
        const r = await run([
          "build",
          "-o",
          out,
          "--format",
          format,
          "--size",
          "8M",
          "--rootfs",
          root,
          "--seed",
          "s",
          "-q",
        ]);
        expect(r.code, `${format}: ${r.stderr}`).toBe(0);
        hashes.push(sha(readFileSync(out)));
      }
      expect(hashes[1], format).toBe(hashes[0]);
    }
  });

  it("says once that there is no boot loader and no kernel, and still builds the seed's layout", async () => {
    const out = join(dir, "default.img");
    const r = await run(["build", "-o", out, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trim().split("\n");
    expect(lines.filter((l) => /no boot loader/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /no kernel: give --kernel/.test(l))).toHaveLength(1);
    expect(lines.every((l) => l.startsWith("bigfile: "))).toBe(true);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      bytes: 4141875200,
      partition: { offset: 32256, bytes: 4040316 * 1024 },
    });
    expect(statSync(out).blocks * 512).toBeLessThan(32 << 20);
  });

  it("takes settings from a TOML config, with flags winning", async () => {
    const root = await tree("conf", { "etc/hostname": "conf\n" });
    const config = join(dir, "bigfile.toml");
    await writeFile(
      config,
      `size = "16M"\nalign = "mib"\nrootfs = ["conf"]\nroot-device = "/dev/vda1"\nbootloader = "none"\nlabel = "fromconfig"\n`,
    );
    const out = join(dir, "conf.img");
    const r = await run(["build", "-o", out, "--config", config, "-L", "fromflag", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      bytes: 16 << 20,
      partition: { offset: 1 << 20 },
      filesystem: { label: "fromflag" },
    });
    expect(report.boot.cmdline).toBe("root=/dev/vda1 ro");
    expect(root).toBe(join(dir, "conf"));
  });

  it("reads JSON configs and refuses unknown keys and wrong kinds, naming them", async () => {
    const json = join(dir, "c.json");
    await writeFile(
      json,
      JSON.stringify({ size: "auto", rootfs: "x", serial: true, blockSize: 4096 }),
    );
    expect(loadBuildConfig(json)).toMatchObject({
      size: "auto",
      rootfs: [join(dir, "x")],
      serial: true,
      blockSize: 4096,
    });
    const bad = join(dir, "bad.toml");
    await writeFile(bad, `sise = "4G"\n`);
    expect(() => loadBuildConfig(bad)).toThrow(/unknown key 'sise'/);
    await writeFile(bad, `serial = "yes"\n`);
    expect(() => loadBuildConfig(bad)).toThrow(/'serial' must be true or false/);
    await writeFile(bad, `size = [\n`);
    expect(() => loadBuildConfig(bad)).toThrow(/not valid TOML/);
  });

  describe("refusals leave no output and print one line", () => {
    const cases: [string, (out: string) => Promise<string[]>, RegExp][] = [
      [
        "a missing kernel",
        async (out) => ["build", "-o", out, "--kernel", join(dir, "no-such-vmlinuz")],
        /Cannot read kernel .*no-such-vmlinuz: no such file/,
      ],
      [
        "a missing root tree",
        async (out) => ["build", "-o", out, "--rootfs", join(dir, "no-such-root")],
        /Cannot read root tree .*no-such-root/,
      ],
      [
        "a tree too big for --size",
        async (out) => {
          const big = await tree("big", { "big/file": "y".repeat(3 << 20) });
          return ["build", "-o", out, "--size", "2M", "--rootfs", big];
        },
        /(needs|fit).*(give a larger --size, or --size auto)/,
      ],
      [
        "a bad config key",
        async (out) => {
          const config = join(dir, "refuse.toml");
          await writeFile(config, `kernal = "vmlinuz"\n`);
          return ["build", "-o", out, "--config", config];
        },
        /unknown key 'kernal'/,
      ],
      [
        "an output in a missing directory",
        async () => ["build", "-o", join(dir, "no-such-dir", "x.img")],
        /Cannot write the image into .*no-such-dir/,
      ],
      [
        "ext4 features mke2fs refuses together, with its reason",
        async (out) => ["build", "-o", out, "--fs", "ext4", "--features", "^extent"],
        /Cannot use features \^extent: Extents MUST be enabled for a 64-bit filesystem/,
      ],
      [
        "an unknown feature",
        async (out) => ["build", "-o", out, "--features", "bogus"],
        /unknown feature bogus/,
      ],
      [
        "a disk too small for the alignment",
        async (out) => ["build", "-o", out, "--size", "1M", "--align", "mib"],
        /Cannot/,
      ],
    ];
    for (const [what, args, message] of cases) {
      it(what, async () => {
        const out = join(dir, `refused-${what.replaceAll(" ", "-")}.img`);
        const before = readdirSync(dir).length;
        const r = await run(await args(out));
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(r.stderr).toMatch(/^bigfile: /);
        expect(existsSync(out)).toBe(false);
        // Nothing left behind beside it either (temporary files).
        expect(readdirSync(dir).filter((n) => n.startsWith(".refused"))).toEqual([]);
        expect(readdirSync(dir).length).toBeLessThanOrEqual(before + 2);
      });
    }

    it("keeps an existing output as it was when the build fails", async () => {
      const out = join(dir, "keep.img");
      await writeFile(out, "precious");
      const r = await run(["build", "-o", out, "--kernel", join(dir, "missing")]);
      expect(r.code).toBe(1);
      expect(readFileSync(out, "utf8")).toBe("precious");
    });

    it("an unwritable output directory", async () => {
      if (process.getuid?.() === 0) return; // root writes anywhere: covered by the missing-directory case
      const locked = join(dir, "locked");
      await mkdir(locked);
      await chmod(locked, 0o500);
      const r = await run(["build", "-o", join(locked, "x.img")]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/permission denied/);
    });

    it("usage errors exit 2", async () => {
      const r = await run(["build", "--align", "track"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--align wants cylinder, mib/);
      const fs = await run(["build", "--fs", "xfs"]);
      expect(fs.code).toBe(2);
      expect(fs.stderr).toMatch(/--fs wants ext3, ext4, ext2/);
    });

    it("refuses to write the image to a terminal", async () => {
      const io = memoryIo({ stdoutIsTTY: true });
      expect(await main(["build"], io)).toBe(2);
      expect(io.stderrText()).toMatch(/terminal/);
    });
  });
});

describe("findBootFiles", () => {
  it("follows Debian's /vmlinuz link and picks the matching initrd", async () => {
    const root = await tree("debian", {
      "boot/vmlinuz-6.1.0-9-amd64": "k9",
      "boot/vmlinuz-6.1.0-10-amd64": "k10",
      "boot/initrd.img-6.1.0-10-amd64": "i10",
      "boot/config-6.1.0-10-amd64": "c",
    });
    expect(await findBootFiles([{ kind: "directory", path: root }])).toEqual({
      kernel: "/boot/vmlinuz-6.1.0-10-amd64",
      initrd: "/boot/initrd.img-6.1.0-10-amd64",
      unknown: false,
    });
    await symlink("boot/vmlinuz-6.1.0-9-amd64", join(root, "vmlinuz"));
    await symlink("/boot/initrd.img-6.1.0-10-amd64", join(root, "initrd.img"));
    expect(await findBootFiles([{ kind: "directory", path: root }])).toMatchObject({
      kernel: "/boot/vmlinuz-6.1.0-9-amd64",
      initrd: "/boot/initrd.img-6.1.0-10-amd64",
    });
  });

  it("reads tar files, lets later sources win, and says when a stream could not be searched", async () => {
    const tar = join(dir, "boot.tar");
    const chunks: Uint8Array[] = [];
    for await (const c of writeTar(
      (async function* () {
        yield {
          path: "boot/vmlinuz-5.10",
          type: "file" as const,
          body: new TextEncoder().encode("k"),
        };
        yield {
          path: "boot/initramfs-5.10.img",
          type: "file" as const,
          body: new TextEncoder().encode("i"),
        };
      })(),
    ))
      chunks.push(c);
    await writeFile(tar, Buffer.concat(chunks));
    const empty = await tree("empty", {});
    const found = await findBootFiles([
      { kind: "directory", path: empty },
      { kind: "tar", path: tar },
      { kind: "tar-stream" },
    ]);
    expect(found).toEqual({
      kernel: "/boot/vmlinuz-5.10",
      initrd: "/boot/initramfs-5.10.img",
      unknown: true,
    });
    const none = await findBootFiles([{ kind: "directory", path: empty }]);
    expect(none).toEqual({ unknown: false });
  });

  it("ignores a link that leads out of what it can see, or in a loop", async () => {
    const root = await tree("loops", {});
    await mkdir(join(root, "boot"), { recursive: true });
    await symlink("vmlinuz", join(root, "boot", "vmlinuz"));
    await symlink("/elsewhere/vmlinuz", join(root, "vmlinuz"));
    expect(await findBootFiles([{ kind: "directory", path: root }])).toEqual({ unknown: false });
  });
});
