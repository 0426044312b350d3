import { ExitError, jsonText, UsageError } from "@bigfile/cli-kit";
import { type CliIo, integerOption } from "@bigfile/cli-kit/node";
import type { Command } from "commander";
import { BootFilesError, bootFiles } from "./boot_files.ts";
import { formatInspection } from "./format_inspection.ts";
import { inspectImage } from "./inspect_image.ts";
import { type VmConfigKind, type VmConfigOptions, vmConfig } from "./vm_config.ts";

function entryOption(value: string): number | string {
  return /^\d+$/.test(value) ? Number(value) : value;
}

function lower(message: string): string {
  return message.charAt(0).toLowerCase() + message.slice(1);
}

/** Errors of the read commands as one line (ExitError: exit 1). */
function asExit(error: unknown): never {
  if (
    error instanceof BootFilesError ||
    error instanceof RangeError ||
    error instanceof SyntaxError
  ) {
    throw new ExitError(lower(error.message.split("\n")[0] ?? error.message));
  }
  throw error;
}

/** Adds `inspect`, `boot-files` and `vm-config` to the program. */
export function addReadCommands(program: Command, io: CliIo): void {
  program
    .command("inspect")
    .description(
      "report an image's geometry, partition table, filesystems, boot code and GRUB menus, and check that they agree (exit 1 when not)",
    )
    .argument("<image>", "raw disk image")
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      `
Checks (errors exit 1): a filesystem larger than its partition, an invalid
table, a bootable partition with no filesystem, a GRUB core.img whose prefix
names a partition without that directory, a damaged core.img, a grub.cfg or
menu.lst naming a kernel or initrd that is not there. Warnings (exit 0): space
left unused at the end of a partition, menu lines pygrub misreads.

Examples:
  bigfile inspect disk.img
  bigfile inspect --json disk.img | jq '.checks'`,
    )
    .action(async (image: string, opts: { json?: boolean }) => {
      const report = await inspectImage(image, { cwd: io.cwd }).catch(asExit);
      io.stdout.write(opts.json ? jsonText(report) : formatInspection(report));
      const errors = report.checks.filter((c) => c.level === "error");
      if (errors.length > 0) {
        const first = errors[0]?.message ?? "";
        throw new ExitError(
          `${image}: ${errors.length} check${errors.length === 1 ? "" : "s"} failed: ${first}`,
        );
      }
    });

  program
    .command("boot-files")
    .description(
      "what Xen's pygrub does, without Xen: copy the kernel and initrd of a GRUB menu entry out of an image and print its arguments",
    )
    .argument("<image>", "raw disk image (or a bare ext2/3/4 filesystem image)")
    .option(
      "-o, --output-dir <dir>",
      "directory for the kernel and initrd (created if missing)",
      ".",
    )
    .option(
      "--entry <n>",
      "the menu entry: its number (from 0) or its title (default: the menu's default)",
      entryOption,
    )
    .option("-n, --dry-run", "only print what would be written")
    .option("--json", "print {kernel, initrd, args, entry, title, config, ...} as JSON")
    .addHelpText(
      "after",
      `
Looks where pygrub looks: the primary partitions in table order (or the whole
disk), for /boot/grub/grub.cfg, /grub/grub.cfg, /boot/grub2/grub.cfg,
/grub2/grub.cfg, then /boot/grub/menu.lst, /boot/grub/grub.conf,
/grub/menu.lst, /grub/grub.conf, and reads them in pygrub's dialect. The
files keep their names (vmlinuz, initrd.img) and are written atomically.
Output: 'kernel PATH', 'ramdisk PATH', 'args ARGS' (pygrub's simple format).

Examples:
  bigfile boot-files disk.img -o boot/
  bigfile boot-files disk.img --entry 1 --json`,
    )
    .action(
      async (
        image: string,
        opts: { outputDir: string; entry?: number | string; dryRun?: boolean; json?: boolean },
      ) => {
        const result = await bootFiles(image, {
          cwd: io.cwd,
          outDir: opts.outputDir,
          write: !opts.dryRun,
          ...(opts.entry !== undefined && { entry: opts.entry }),
        }).catch(asExit);
        if (opts.json) {
          io.stdout.write(jsonText(result));
          return;
        }
        let out = `kernel ${result.kernel}\n`;
        if (result.initrd) out += `ramdisk ${result.initrd}\n`;
        out += `args ${result.args}\n`;
        io.stdout.write(out);
        const from = result.partition === 0 ? "the whole disk" : `partition ${result.partition}`;
        io.stderr.write(
          `bigfile: ${opts.dryRun ? "would copy" : "copied"} ${result.image.kernel}${result.image.initrd ? ` and ${result.image.initrd}` : ""} from ${from}: ${result.config} entry ${result.entry} '${result.title}'\n`,
        );
      },
    );

  program
    .command("vm-config")
    .description(
      "print a Xen domU configuration, a QEMU command line or a libvirt domain for an image",
    )
    .argument("<image>", "raw disk image")
    .option("--xen", 'a Xen (xl) domU configuration: bootloader = "pygrub"')
    .option("--qemu", "a QEMU command line (serial console on the terminal)")
    .option("--libvirt", "a libvirt domain XML (virsh define)")
    .option(
      "--direct-kernel",
      "boot the kernel and initrd directly, copied out of the image (as boot-files does)",
    )
    .option(
      "--boot-dir <dir>",
      "with --direct-kernel: where the kernel and initrd go (default: beside the image)",
    )
    .option("--entry <n>", "with --direct-kernel: the menu entry, number or title", entryOption)
    .option("--name <name>", "the VM's name (default: the image's file name)")
    .option("--memory <MiB>", "memory in MiB", integerOption, 512)
    .option("--vcpus <n>", "virtual CPUs", integerOption, 1)
    .option("--no-reboot", "QEMU: exit instead of rebooting (-no-reboot)")
    .option("--kvm", 'libvirt: <domain type="kvm"> (needs /dev/kvm; default "qemu")')
    .option("--json", "print {kind, format, image, name, text, argv, boot} as JSON")
    .addHelpText(
      "after",
      `
Every configuration names the disk format: raw.

Examples:
  bigfile vm-config disk.img --xen > disk.cfg && xl create disk.cfg
  bigfile vm-config disk.img --xen --direct-kernel --boot-dir /var/lib/xen/boot
  bigfile vm-config disk.img --qemu            then run the printed command
  bigfile vm-config disk.img --libvirt > disk.xml && virsh define disk.xml`,
    )
    .action(
      async (
        image: string,
        opts: {
          xen?: boolean;
          qemu?: boolean;
          libvirt?: boolean;
          directKernel?: boolean;
          bootDir?: string;
          entry?: number | string;
          name?: string;
          memory: number;
          vcpus: number;
          reboot: boolean;
          kvm?: boolean;
          json?: boolean;
        },
      ) => {
        const kinds = (["xen", "qemu", "libvirt"] as const).filter((k) => opts[k]);
        if (kinds.length !== 1) {
          throw new UsageError(
            kinds.length === 0
              ? "say which configuration: --xen, --qemu or --libvirt"
              : `give one of --xen, --qemu, --libvirt (got ${kinds.map((k) => `--${k}`).join(" ")})`,
          );
        }
        if (!opts.directKernel && (opts.bootDir !== undefined || opts.entry !== undefined)) {
          throw new UsageError("--boot-dir and --entry go with --direct-kernel");
        }
        const kind = kinds[0] as VmConfigKind;
        const options: VmConfigOptions = {
          cwd: io.cwd,
          memory: opts.memory,
          vcpus: opts.vcpus,
          noReboot: !opts.reboot,
          kvm: Boolean(opts.kvm),
          directKernel: Boolean(opts.directKernel),
          ...(opts.bootDir !== undefined && { bootDir: opts.bootDir }),
          ...(opts.entry !== undefined && { entry: opts.entry }),
          ...(opts.name !== undefined && { name: opts.name }),
        };
        const vm = await vmConfig(image, kind, options).catch(asExit);
        for (const w of vm.warnings) io.stderr.write(`bigfile: warning: ${w}\n`);
        io.stdout.write(opts.json ? jsonText(vm) : vm.text);
      },
    );
}
