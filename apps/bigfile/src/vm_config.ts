import { basename, dirname, extname, resolve } from "node:path";
import type { ImageFormat } from "@bigfile/vdisk";
import { openDisk } from "./_open_disk.ts";
import { type BootFilesResult, bootFiles, findBootConfig } from "./boot_files.ts";

/** The kinds of VM configuration {@linkcode vmConfig} writes. */
export type VmConfigKind = "xen" | "qemu" | "libvirt";

/** Options for {@linkcode vmConfig}. */
export interface VmConfigOptions {
  /** The VM's name. @default the image's file name without its extension */
  name?: string;
  /** Memory in MiB. @default 512 */
  memory?: number;
  /** Virtual CPUs. @default 1 */
  vcpus?: number;
  /**
   * Boot the kernel and initrd directly (Xen `kernel`/`ramdisk`/`extra`,
   * QEMU `-kernel`/`-initrd`/`-append`, libvirt `<kernel>`): they are copied
   * out of the image as {@linkcode bootFiles} does. @default false
   */
  directKernel?: boolean;
  /** With `directKernel`: where the kernel and initrd are written. @default the image's directory */
  bootDir?: string;
  /** With `directKernel`: the menu entry (number or title). @default the menu's default */
  entry?: number | string;
  /** QEMU: `-no-reboot`, so that a reboot in the guest ends QEMU. @default false */
  noReboot?: boolean;
  /** libvirt: `<domain type="kvm">` instead of `"qemu"` (needs /dev/kvm). @default false */
  kvm?: boolean;
  /** Directory relative paths are resolved against. @default process.cwd() */
  cwd?: string;
}

/** A VM configuration for an image. */
export interface VmConfig {
  kind: VmConfigKind;
  /** The image's format, named in the configuration (QEMU says `vpc` for VHD). */
  format: ImageFormat;
  /** The image's absolute path. */
  image: string;
  name: string;
  /** The configuration: an xl domain file, a shell command line, or libvirt domain XML. */
  text: string;
  /** QEMU: the command as an argument vector (`argv[0]` is `qemu-system-x86_64`). */
  argv?: string[];
  /** With `directKernel`: the kernel, initrd and arguments written out. */
  boot?: BootFilesResult;
  /** Things worth knowing that do not stop the configuration (one line each). */
  warnings: string[];
}

/** QEMU's and libvirt's names of vdisk's formats. */
const QEMU_FORMAT: Readonly<Record<ImageFormat, string>> = {
  raw: "raw",
  qcow2: "qcow2",
  vhd: "vpc",
  "vhd-fixed": "vpc",
  vmdk: "vmdk",
  "vmdk-stream": "vmdk",
};

/** xl's names (its qdisk backend reads qcow2 and VHD). */
const XEN_FORMAT: Readonly<Record<ImageFormat, string>> = {
  raw: "raw",
  qcow2: "qcow2",
  vhd: "vhd",
  "vhd-fixed": "raw",
  vmdk: "vmdk",
  "vmdk-stream": "vmdk",
};

/** A shell word: left bare when safe, else in single quotes. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * An argument vector as one POSIX shell command line.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { shellCommand } from "@bigfile/bigfile";
 * assert.equal(
 *   shellCommand(["qemu-system-x86_64", "-drive", "file=my disk.img,format=raw"]),
 *   "qemu-system-x86_64 -drive 'file=my disk.img,format=raw'",
 * );
 * ```
 */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellWord).join(" ");
}

function xmlEscape(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** A Xen/libvirt-safe VM name from a file name. */
function defaultName(image: string): string {
  const stem = basename(image, extname(image)).replace(/[^A-Za-z0-9_.-]+/g, "-");
  return stem.replace(/^[-.]+/, "") || "bigfile";
}

/** What {@linkcode qemuCommand} needs. */
export interface QemuCommandOptions {
  /** The image file's format (vdisk's name). @default "raw" */
  format?: ImageFormat;
  name: string;
  memory: number;
  vcpus: number;
  noReboot?: boolean;
  boot?: { kernel: string; initrd: string | null; args: string };
}

/**
 * The QEMU command line that boots a disk image: `qemu-system-x86_64 -m MiB
 * -nographic` (serial console on standard input and output), the image as
 * an IDE disk (`format=raw`), optionally `-kernel`/`-initrd`/`-append`.
 *
 * @param image The image's path (commas are doubled as QEMU wants).
 * @returns The argument vector, `qemu-system-x86_64` first.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { qemuCommand } from "@bigfile/bigfile";
 * assert.deepEqual(qemuCommand("/vm/disk.img", { name: "disk", memory: 512, vcpus: 1 }), [
 *   ...["qemu-system-x86_64", "-name", "disk", "-m", "512", "-smp", "1", "-nographic"],
 *   ...["-drive", "file=/vm/disk.img,format=raw,if=ide"],
 * ]);
 * ```
 */
export function qemuCommand(image: string, options: QemuCommandOptions): string[] {
  const argv = [
    "qemu-system-x86_64",
    "-name",
    options.name,
    "-m",
    String(options.memory),
    "-smp",
    String(options.vcpus),
    "-nographic",
  ];
  if (options.noReboot) argv.push("-no-reboot");
  const format = QEMU_FORMAT[options.format ?? "raw"];
  argv.push("-drive", `file=${image.replaceAll(",", ",,")},format=${format},if=ide`);
  if (options.boot) {
    argv.push("-kernel", options.boot.kernel);
    if (options.boot.initrd) argv.push("-initrd", options.boot.initrd);
    if (options.boot.args) argv.push("-append", options.boot.args);
  }
  return argv;
}

function xlString(value: string, what: string): string {
  if (/["\\\n]/.test(value)) {
    throw new RangeError(
      `Cannot write the Xen configuration: the ${what} holds a quote, backslash or newline (${JSON.stringify(value)})`,
    );
  }
  return `"${value}"`;
}

/** What {@linkcode xenConfig} needs. */
export interface XenConfigOptions {
  /** The image file's format (vdisk's name). @default "raw" */
  format?: ImageFormat;
  name: string;
  memory: number;
  vcpus: number;
  boot?: { kernel: string; initrd: string | null; args: string };
}

/**
 * An `xl` domain configuration for a PV guest on a disk image: `bootloader =
 * "pygrub"` (pygrub reads grub.cfg or menu.lst inside the image), or with
 * `boot` the kernel, ramdisk and arguments given directly.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { xenConfig } from "@bigfile/bigfile";
 * const cfg = xenConfig("/vm/disk.img", { name: "disk", memory: 512, vcpus: 1 });
 * assert.match(cfg, /disk = \['format=raw, vdev=xvda, access=rw, target=\/vm\/disk.img'\]/);
 * ```
 */
export function xenConfig(image: string, options: XenConfigOptions): string {
  if (/['\n]/.test(image)) {
    throw new RangeError(
      `Cannot write the Xen configuration: the image path holds a quote or newline (${JSON.stringify(image)})`,
    );
  }
  const lines = [
    "# Xen domU configuration (xl create FILE); written by bigfile vm-config",
    `name = ${xlString(options.name, "name")}`,
    'type = "pv"',
    `memory = ${options.memory}`,
    `vcpus = ${options.vcpus}`,
  ];
  if (options.boot) {
    lines.push(`kernel = ${xlString(options.boot.kernel, "kernel path")}`);
    if (options.boot.initrd)
      lines.push(`ramdisk = ${xlString(options.boot.initrd, "initrd path")}`);
    lines.push(`extra = ${xlString(options.boot.args, "kernel command line")}`);
  } else {
    lines.push('bootloader = "pygrub"');
  }
  lines.push(
    `# The image is a ${options.format ?? "raw"} disk: its partitions appear as /dev/xvda1, ... in the guest.`,
    `disk = ['format=${XEN_FORMAT[options.format ?? "raw"]}, vdev=xvda, access=rw, target=${image}']`,
    'on_poweroff = "destroy"',
    'on_reboot = "restart"',
    'on_crash = "destroy"',
  );
  return `${lines.join("\n")}\n`;
}

/** What {@linkcode libvirtXml} needs. */
export interface LibvirtXmlOptions {
  /** The image file's format (vdisk's name). @default "raw" */
  format?: ImageFormat;
  name: string;
  memory: number;
  vcpus: number;
  kvm?: boolean;
  boot?: { kernel: string; initrd: string | null; args: string };
}

/**
 * A libvirt domain (`virsh define FILE`): an x86_64 HVM guest whose disk is
 * the image (raw or a container vdisk reads) on IDE, with a serial console; `boot` boots a kernel
 * directly. The XML passes `virt-xml-validate`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { libvirtXml } from "@bigfile/bigfile";
 * const xml = libvirtXml("/vm/disk.img", { name: "disk", memory: 512, vcpus: 1 });
 * assert.match(xml, /<domain type="qemu">/);
 * assert.match(xml, /<driver name="qemu" type="raw"\/>/);
 * ```
 */
export function libvirtXml(image: string, options: LibvirtXmlOptions): string {
  const x = xmlEscape;
  const os = ['    <type arch="x86_64" machine="pc">hvm</type>'];
  if (options.boot) {
    os.push(`    <kernel>${x(options.boot.kernel)}</kernel>`);
    if (options.boot.initrd) os.push(`    <initrd>${x(options.boot.initrd)}</initrd>`);
    if (options.boot.args) os.push(`    <cmdline>${x(options.boot.args)}</cmdline>`);
  } else {
    os.push('    <boot dev="hd"/>');
  }
  return `<domain type="${options.kvm ? "kvm" : "qemu"}">
  <!-- libvirt domain (virsh define FILE); written by bigfile vm-config -->
  <name>${x(options.name)}</name>
  <memory unit="MiB">${options.memory}</memory>
  <vcpu>${options.vcpus}</vcpu>
  <os>
${os.join("\n")}
  </os>
  <features>
    <acpi/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type="file" device="disk">
      <driver name="qemu" type="${QEMU_FORMAT[options.format ?? "raw"]}"/>
      <source file="${x(image)}"/>
      <target dev="hda" bus="ide"/>
    </disk>
    <serial type="pty">
      <target port="0"/>
    </serial>
    <console type="pty">
      <target type="serial" port="0"/>
    </console>
  </devices>
</domain>
`;
}

/**
 * A VM configuration that boots a disk image: a Xen domU file (`xen`,
 * through pygrub or a direct kernel), a QEMU command line (`qemu`, also as
 * an argument vector to run as it is) or a libvirt domain XML (`libvirt`).
 * With `directKernel` the kernel and initrd are first copied out of the
 * image ({@linkcode bootFiles}) next to it or into `bootDir`. Refuses
 * images in a container format (qcow2, VMDK, VHD): the configurations say
 * `raw`.
 *
 * @param image Path of a disk image: raw, qcow2, VHD or VMDK.
 * @param kind `xen`, `qemu` or `libvirt`.
 *
 * @example The QEMU command for an image
 * ```ts
 * import assert from "node:assert/strict";
 * import { vmConfig } from "@bigfile/bigfile";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { build } from "@bigfile/bigfile";
 * await mkdir("rootfs/etc", { recursive: true });
 * await writeFile("rootfs/etc/hostname", "demo\n");
 * await writeFile("vmlinuz", "not a real kernel\n");
 * await writeFile("initrd.img", "not a real initrd\n");
 * await build({ output: "disk.img", size: "auto", rootfs: ["rootfs/"], kernel: "vmlinuz", initrd: "initrd.img" });
 * const vm = await vmConfig("disk.img", "qemu", { noReboot: true });
 * // qemu-system-x86_64 -name disk -m 512 -smp 1 -nographic -no-reboot -drive file=...
 * assert.deepEqual(vm.argv?.slice(0, 8), ["qemu-system-x86_64", "-name", "disk", "-m", "512", "-smp", "1", "-nographic"]);
 * // execa(vm.argv[0], vm.argv.slice(1), { stdio: "inherit" });
 * ```
 */
export async function vmConfig(
  image: string,
  kind: VmConfigKind,
  options: VmConfigOptions = {},
): Promise<VmConfig> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, image);
  const disk = await openDisk(path);
  const format = disk.format;
  await disk.close();
  const memory = options.memory ?? 512;
  const vcpus = options.vcpus ?? 1;
  if (!Number.isInteger(memory) || memory < 16) {
    throw new RangeError(
      `Cannot write a VM configuration: memory must be at least 16 MiB (got ${memory})`,
    );
  }
  if (!Number.isInteger(vcpus) || vcpus < 1) {
    throw new RangeError(`Cannot write a VM configuration: vcpus must be 1 or more (got ${vcpus})`);
  }
  const name = options.name ?? defaultName(path);
  const warnings: string[] = [];
  let boot: BootFilesResult | undefined;
  if (options.directKernel) {
    boot = await bootFiles(path, {
      outDir: resolve(cwd, options.bootDir ?? dirname(path)),
      ...(options.entry !== undefined && { entry: options.entry }),
    });
    if (kind === "xen" && /\broot=\/dev\/[sh]d[a-z]/.test(boot.args)) {
      warnings.push(
        `the kernel arguments name ${/\broot=(\S+)/.exec(boot.args)?.[1]}; a Xen PV guest sees the disk as /dev/xvda`,
      );
    }
    if (kind !== "xen" && !/\bconsole=ttyS0/.test(boot.args)) {
      warnings.push("the kernel arguments have no console=ttyS0: the serial console stays silent");
    }
  } else if (kind === "xen") {
    const disk = await openDisk(path);
    try {
      await findBootConfig(disk);
    } catch (error) {
      warnings.push(`pygrub will not find a kernel: ${(error as Error).message}`);
    } finally {
      await disk.close();
    }
  }
  if (format !== "raw" && kind === "xen") {
    warnings.push(
      options.directKernel
        ? `xl reads ${format} images only through qemu (qdisk); a raw copy is the safest: vdisk convert --to raw`
        : `pygrub reads raw images only: give --direct-kernel, or convert it (vdisk convert --to raw)`,
    );
  }
  const common = { name, memory, vcpus, format, ...(boot && { boot }) };
  let text: string;
  let argv: string[] | undefined;
  if (kind === "xen") {
    text = xenConfig(path, common);
  } else if (kind === "qemu") {
    argv = qemuCommand(path, { ...common, noReboot: options.noReboot ?? false });
    text = `${shellCommand(argv)}\n`;
  } else {
    text = libvirtXml(path, { ...common, kvm: options.kvm ?? false });
  }
  return {
    kind,
    format,
    image: path,
    name,
    text,
    ...(argv && { argv }),
    ...(boot && { boot }),
    warnings,
  };
}
