// `bigfile inspect`, `boot-files` and `vm-config` against the real tools:
// images made by sfdisk + mke2fs pass inspect, and fail it once sfdisk shrinks
// the table under the filesystem; pygrub and boot-files give the same kernel,
// initrd and arguments (grub.cfg and menu.lst), and parse menus alike; the
// libvirt XML passes virt-xml-validate; QEMU boots the printed command line.
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { beforeAll, expect, it } from "vitest";
import {
  BOOT_TOOLS,
  bootFixtures,
  describeWithTools,
  GUEST_MARKERS,
  grubCfg,
  makeReferenceImage,
  runPygrub,
  sfdiskApply,
  stripAnsi,
  type TempDir,
  tempDir,
} from "../harness/mod.ts";

const bin = (name: string) =>
  name === "bigfile"
    ? fileURLToPath(new URL("../../apps/bigfile/bin/bigfile.js", import.meta.url))
    : fileURLToPath(new URL(`../../packages/${name}/bin/${name}.js`, import.meta.url));

const GRUB_DIR = "/usr/lib/grub/i386-pc";

function bigfile(args: string[]) {
  return execa(bin("bigfile"), args, { reject: false, stdin: "ignore" });
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Options of {@link pipelineImage}. */
interface PipelineOptions {
  /** grub.cfg for /boot/grub (over the one `grub-mbr files` writes). */
  grubCfg?: string;
  /** menu.lst for /boot/grub. */
  menuLst?: string;
  /** The GRUB payload (`grub-mbr files`) and `grub-mbr install`. @default true */
  grub?: boolean;
}

/**
 * A 64 MiB bootable-layout image from the Unix filters: grub-mbr files |
 * ext3fs mkfs (root with the fixture kernel and initrd) | mbr wrap |
 * grub-mbr install.
 */
async function pipelineImage(dir: string, options: PipelineOptions = {}): Promise<string> {
  const fx = await bootFixtures();
  const root = join(dir, "root");
  await mkdir(join(root, "boot", "grub"), { recursive: true });
  await copyFile(fx.vmlinuz, join(root, "boot", "vmlinuz"));
  await copyFile(fx.initrd, join(root, "boot", "initrd.img"));
  if (options.grubCfg) await writeFile(join(root, "boot", "grub", "grub.cfg"), options.grubCfg);
  if (options.menuLst) await writeFile(join(root, "boot", "grub", "menu.lst"), options.menuLst);
  const image = join(dir, "disk.img");
  const grub = options.grub !== false;
  const grubTar = join(dir, "grub.tar");
  const steps: string[] = [];
  if (grub) {
    steps.push(
      `${shellQuote(bin("grub-mbr"))} files --serial --cmdline 'root=/dev/sda1 ro' > ${shellQuote(grubTar)}`,
    );
  }
  // Later sources win: the root's own grub.cfg is laid over the payload's.
  const sources = [...(grub ? [grubTar] : []), root].map(shellQuote).join(" ");
  steps.push(
    `${shellQuote(bin("ext3fs"))} mkfs ${sources} -t ext3 --size 48M --seed read-test` +
      ` | ${shellQuote(bin("mbr"))} wrap --align mib --disk-size 64M --bootable` +
      (grub ? ` | ${shellQuote(bin("grub-mbr"))} install` : "") +
      ` > ${shellQuote(image)}`,
  );
  const run = await execa("bash", ["-o", "pipefail", "-c", steps.join(" && ")], { reject: false });
  if (run.exitCode !== 0) throw new Error(`the pipeline failed: ${run.stderr}`);
  return image;
}

const TWO_ENTRIES = `set default=0
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
menuentry 'Linux' {
\tlinux /boot/vmlinuz root=/dev/sda1 ro console=ttyS0,115200 loglevel=4
\tinitrd /boot/initrd.img
}
menuentry 'Linux, no initrd' --class linux {
\tlinux /boot/vmlinuz root=/dev/xvda1 ro single
}
`;

describeWithTools(["sfdisk", "mke2fs"], "bigfile inspect: images made by sfdisk + mke2fs", () => {
  it("passes a consistent image and fails once the table is shrunk under the filesystem", async () => {
    const tmp = await tempDir("inspect-ref");
    try {
      const root = join(tmp.path, "root");
      await mkdir(join(root, "boot", "grub"), { recursive: true });
      await writeFile(join(root, "boot", "vmlinuz"), "not really a kernel\n");
      await writeFile(join(root, "boot", "initrd.img"), "not really an initrd\n");
      await writeFile(join(root, "boot", "grub", "grub.cfg"), grubCfg());
      const image = join(tmp.path, "ref.img");
      const ref = await makeReferenceImage(image, { root, grub: false });

      const good = await bigfile(["inspect", image, "--json"]);
      expect(good.stderr).toBe("");
      expect(good.exitCode).toBe(0);
      const report = JSON.parse(good.stdout);
      expect(report.checks).toEqual([]);
      expect(report.partitions[0]).toMatchObject({
        number: 1,
        offset: ref.offset,
        length: ref.fsBytes,
        bootable: true,
        filesystem: { type: "ext3", bytes: ref.fsBytes },
      });
      expect(report.menus[0]).toMatchObject({ config: "/boot/grub/grub.cfg", pygrub: true });

      // sfdisk rewrites the table: the partition loses 4 MiB, the filesystem stays.
      const sectors = ref.fsBytes / 512 - 8192;
      await sfdiskApply(image, `start=${ref.offset / 512}, size=${sectors}, type=83, bootable\n`);
      const bad = await bigfile(["inspect", image]);
      expect(bad.exitCode).toBe(1);
      expect(bad.stdout).toContain(
        `error: partition 1: the filesystem's superblock says ${ref.fsBytes / 1024} blocks of 1024 bytes (${ref.fsBytes} bytes) but the partition table gives ${sectors} sectors (${sectors * 512} bytes)`,
      );
      expect(bad.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(bad.stderr).toContain(`(${ref.fsBytes} bytes)`);
      expect(bad.stderr).toContain(`(${sectors * 512} bytes)`);
      expect(bad.stderr).toContain(
        "either the partition table or the filesystem's superblock is lying",
      );
    } finally {
      await tmp.remove();
    }
  });
});

describeWithTools(
  ["sfdisk", "mke2fs", "unshare", "grub-mkimage", "grub-bios-setup", GRUB_DIR],
  "bigfile inspect: GRUB installed by grub-bios-setup",
  () => {
    it("reads core.img's prefix and finds /boot/grub in partition 1", async () => {
      const tmp = await tempDir("inspect-grub");
      try {
        const root = join(tmp.path, "root");
        await mkdir(join(root, "boot", "grub"), { recursive: true });
        await writeFile(join(root, "boot", "grub", "grub.cfg"), grubCfg({ initrd: null }));
        await writeFile(join(root, "boot", "vmlinuz"), "kernel\n");
        const image = join(tmp.path, "grub.img");
        await makeReferenceImage(image, { root });
        const r = await bigfile(["inspect", image, "--json"]);
        expect(r.exitCode, r.stderr).toBe(0);
        const report = JSON.parse(r.stdout);
        expect(report.boot.bootCode).toBe("grub2");
        expect(report.boot.grub.core.integrity).toBe("intact");
        expect(report.boot.prefix).toMatchObject({ partition: 1, path: "/boot/grub" });
        expect(report.checks).toEqual([]);
      } finally {
        await tmp.remove();
      }
    });
  },
);

describeWithTools(
  ["pygrub", "script", "grub-mkimage", GRUB_DIR],
  "bigfile boot-files gives what pygrub gives",
  () => {
    let tmp: TempDir;
    beforeAll(async () => {
      tmp = await tempDir("boot-files-pygrub");
      await bootFixtures();
      return () => tmp.remove();
    }, 600_000);

    async function compare(image: string, entry?: number) {
      const out = join(tmp.path, `out-${Math.random().toString(36).slice(2)}`);
      const args = ["boot-files", image, "-o", out, "--json"];
      if (entry !== undefined) args.push("--entry", String(entry));
      const ours = await bigfile(args);
      expect(ours.exitCode, ours.stderr).toBe(0);
      const result = JSON.parse(ours.stdout);
      const theirs = await runPygrub(image, entry === undefined ? {} : { entry });
      expect(theirs.ok, theirs.output).toBe(true);
      expect(await sha256(result.kernel)).toBe(theirs.kernel?.sha256);
      if (theirs.ramdisk) expect(await sha256(result.initrd)).toBe(theirs.ramdisk.sha256);
      else expect(result.initrd).toBeNull();
      expect(result.args).toBe(theirs.args ?? "");
      return result;
    }

    it("on an image with /boot/grub/grub.cfg, for the default entry and --entry 1", async () => {
      const dir = join(tmp.path, "cfg");
      await mkdir(dir);
      const image = await pipelineImage(dir, { grubCfg: TWO_ENTRIES });
      const fx = await bootFixtures();
      const first = await compare(image);
      expect(first).toMatchObject({ config: "/boot/grub/grub.cfg", entry: 0, title: "Linux" });
      expect(await sha256(first.kernel)).toBe(await sha256(fx.vmlinuz));
      expect(await sha256(first.initrd)).toBe(await sha256(fx.initrd));
      const second = await compare(image, 1);
      expect(second).toMatchObject({ entry: 1, initrd: null, args: "root=/dev/xvda1 ro single" });
    });

    it("on an image with only /boot/grub/menu.lst", async () => {
      const dir = join(tmp.path, "lst");
      await mkdir(dir);
      const image = await pipelineImage(dir, {
        grub: false,
        menuLst: `default 1
timeout 0
title Old
  root (hd0,0)
  kernel /boot/vmlinuz root=/dev/xvda1 ro old
title Debian
  root (hd0,0)
  kernel (hd0,0)/boot/vmlinuz root=/dev/xvda1 ro console=hvc0
  initrd /boot/initrd.img
`,
      });
      const r = await compare(image);
      expect(r).toMatchObject({ config: "/boot/grub/menu.lst", entry: 1, title: "Debian" });
      await compare(image, 0);
    });

    it("parses menus as pygrub's own GrubConf does", async () => {
      const configs: [string, "grub2" | "legacy"][] = [
        [TWO_ENTRIES, "grub2"],
        [
          `function f {\n  linux /nope\n}\nif [ x ]; then\n  set default="\${saved_entry}"\nfi\nmenuentry "A" {\n  set root='hd0,msdos1'\n  linux16\t/a  x=1   y\n}\nsubmenu 'S' {\n  menuentry 'B' $menuentry_id_option 'b' {\n    linux (hd0,msdos1)/b\n    initrd /b.img\n  }\n}\n`,
          "grub2",
        ],
        [
          "default=1\ntimeout=3\ntitle  First one \nroot (hd0,0)\nkernel /k a=b  c\ninitrd /i\ntitle Second\nkernel=/k2\n",
          "legacy",
        ],
      ];
      const python = `
import json, sys
sys.path.insert(0, "/usr/lib/xen-4.17/lib/python")
import logging
logging.disable(logging.CRITICAL)
from grub import GrubConf
out = []
for text, kind in json.load(sys.stdin):
    cf = GrubConf.Grub2ConfigFile() if kind == "grub2" else GrubConf.GrubConfigFile()
    cf.parse(text)
    out.append({"default": cf.default, "entries": [
        {"title": i.title, "kernel": i.kernel[1] if i.kernel else None, "args": i.args or "",
         "initrd": i.initrd[1] if i.initrd else None} for i in cf.images]})
print(json.dumps(out))
`;
      const theirs = await execa("python3", ["-c", python], { input: JSON.stringify(configs) });
      const { parseGrubMenu } = await import("../../apps/bigfile/src/grub_menu.ts");
      const ours = configs.map(([text, kind]) => {
        const menu = parseGrubMenu(text, kind);
        return {
          default: menu.default,
          entries: menu.entries.map((e) => ({
            title: e.title,
            kernel: e.kernel ?? null,
            args: e.args,
            initrd: e.initrd ?? null,
          })),
        };
      });
      expect(ours).toEqual(JSON.parse(theirs.stdout));
    });
  },
);

describeWithTools(
  ["virt-xml-validate", "xmllint", "grub-mkimage", GRUB_DIR],
  "bigfile vm-config --libvirt: virt-xml-validate accepts it",
  () => {
    it("for a disk boot and for a direct kernel boot", async () => {
      const tmp = await tempDir("vm-config-libvirt");
      try {
        const image = await pipelineImage(tmp.path, { grubCfg: TWO_ENTRIES });
        for (const extra of [
          [],
          ["--direct-kernel", "--boot-dir", join(tmp.path, "k")],
          ["--kvm"],
        ]) {
          const r = await bigfile(["vm-config", image, "--libvirt", "--name", "a&b", ...extra]);
          expect(r.exitCode, r.stderr).toBe(0);
          expect(r.stdout).toContain('<driver name="qemu" type="raw"/>');
          const xml = join(tmp.path, "domain.xml");
          await writeFile(xml, r.stdout);
          const v = await execa("virt-xml-validate", [xml, "domain"], { reject: false });
          expect(v.exitCode, `${v.stdout}\n${v.stderr}\n${r.stdout}`).toBe(0);
          expect(`${v.stdout}${v.stderr}`).toContain("validates");
        }
      } finally {
        await tmp.remove();
      }
    });
  },
);

describeWithTools(
  ["qemu-system-x86_64", "grub-mkimage", GRUB_DIR, ...BOOT_TOOLS],
  "bigfile vm-config --qemu: QEMU runs the command it prints",
  () => {
    beforeAll(async () => {
      await bootFixtures();
    }, 600_000);

    async function boot(argv: string[]): Promise<string> {
      const child = execa(argv[0] as string, argv.slice(1), {
        reject: false,
        stdin: "ignore",
        buffer: false,
        timeout: 120_000,
        forceKillAfterDelay: 2000,
      });
      let raw = "";
      const onData = (chunk: Buffer) => {
        raw += chunk.toString("latin1");
        if (stripAnsi(raw).includes(GUEST_MARKERS.done))
          setTimeout(() => child.kill("SIGTERM"), 300);
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      await child;
      return stripAnsi(raw);
    }

    it("boots the image through GRUB, and with --direct-kernel", async () => {
      const tmp = await tempDir("vm-config-qemu");
      try {
        const image = await pipelineImage(tmp.path, { grubCfg: TWO_ENTRIES });
        for (const extra of [[], ["--direct-kernel"]]) {
          const r = await bigfile([
            "vm-config",
            image,
            "--qemu",
            "--no-reboot",
            "--json",
            ...extra,
          ]);
          expect(r.exitCode, r.stderr).toBe(0);
          const vm = JSON.parse(r.stdout) as { argv: string[]; text: string; format: string };
          expect(vm.format).toBe("raw");
          expect(vm.argv).toContain(`file=${image},format=raw,if=ide`);
          const log = await boot(vm.argv);
          expect(log, log).toContain(GUEST_MARKERS.mounted);
          expect(log, log).toContain(GUEST_MARKERS.doneOk);
        }
      } finally {
        await tmp.remove();
      }
    }, 300_000);
  },
);
