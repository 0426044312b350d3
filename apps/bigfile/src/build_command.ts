import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { formatSize } from "@bigfile/blockdev";
import { checkBinaryOutput, openInput, sizeOption, writeChunk } from "@bigfile/blockdev/stdio";
import { ExitError, jsonText, UsageError } from "@bigfile/cli-kit";
import { type CliIo, integerOption } from "@bigfile/cli-kit/node";
import type { Command } from "commander";
import { type BuildReport, build } from "./build.ts";
import { type BuildSettings, loadBuildConfig } from "./build_config.ts";
import type { BuildOptions, RootfsSource } from "./build_options.ts";

interface BuildFlags extends Omit<BuildSettings, "size" | "rootOwner" | "deviceTable"> {
  size?: string;
  rootOwner?: string;
  deviceTable?: string;
  config?: string;
  json?: boolean;
  quiet?: boolean;
}

/** Trees with fewer files are written without V8's optimizing compiler. */
const SMALL_TREE_FILES = 20_000;

function ownerOption(value: string): { uid: number; gid: number } {
  const m = /^(\d+):(\d+)$/.exec(value);
  if (!m)
    throw new UsageError(`--root-owner wants UID:GID (numbers), got ${JSON.stringify(value)}`);
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

function sizeOrAuto(value: string): number | "auto" {
  return value === "auto" ? "auto" : sizeOption(value);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function choice(name: string, allowed: readonly string[]) {
  return (value: string): string => {
    if (!allowed.includes(value))
      throw new UsageError(`${name} wants ${allowed.join(", ")}, got ${value}`);
    return value;
  };
}

/** Adds `bigfile build` to the program. */
export function addBuildCommand(program: Command, io: CliIo): void {
  program
    .command("build")
    .description(
      "make a bootable disk image: partition table, ext3 filesystem from root trees, kernel, GRUB",
    )
    .option(
      "-o, --output <file>",
      "write the image to FILE (sparse, atomic); default standard output",
    )
    .option(
      "--size <size>",
      "disk size (bytes, 4G, 8080632s) or auto: the smallest that fits (default 4141875200, the seed's)",
    )
    .option(
      "--free <size>",
      "with --size auto: free space to leave in the filesystem (default about 10%)",
      sizeOption,
    )
    .option(
      "--format <format>",
      "the image file: raw, qcow2, vhd, vhd-fixed (Azure), vmdk or vmdk-stream (written directly, no raw copy)",
      choice("--format", ["raw", "qcow2", "vhd", "vhd-fixed", "vmdk", "vmdk-stream"]),
    )
    .option(
      "--align <mode>",
      "cylinder (partition at sector 63, whole cylinders: the seed's) or mib (sector 2048)",
      choice("--align", ["cylinder", "mib"]),
    )
    .option(
      "--rootfs <dir|tar|->",
      "a root tree: directory, tar file, or - for a tar on standard input; repeat to lay trees over each other",
      collect,
    )
    .option(
      "--kernel <file>",
      "kernel to copy to /boot/vmlinuz (default: the one in the tree's /boot)",
    )
    .option(
      "--initrd <file>",
      "initrd to copy to /boot/initrd.img (default: the one beside the tree's kernel)",
    )
    .option("--cmdline <text>", "kernel arguments after root=DEV ro")
    .option(
      "--root-device <dev>",
      "the root the kernel mounts (default /dev/sda1; Xen PV guests: /dev/xvda1)",
    )
    .option(
      "--fs <type>",
      "ext3 (journal; the seed's), ext4 (extents, 64bit, metadata_csum...) or ext2",
      choice("--fs", ["ext3", "ext4", "ext2"]),
    )
    .option(
      "-O, --features <list>",
      "filesystem features to add or remove, as mke2fs -O (e.g. ^metadata_csum,^64bit for old boot loaders)",
    )
    .option(
      "-b, --block-size <bytes>",
      "filesystem block size: 1024, 2048 or 4096 (default: by size, as mke2fs)",
      integerOption,
    )
    .option("-I, --inode-size <bytes>", "inode size: 128 or 256 (default 256)", integerOption)
    .option("-N, --inodes <n>", "number of inodes", integerOption)
    .option(
      "-i, --bytes-per-inode <bytes>",
      "bytes per inode (default: by size, as mke2fs)",
      integerOption,
    )
    .option(
      "-m, --reserved-percent <pct>",
      "blocks reserved for root, in percent (default 5)",
      Number,
    )
    .option("-L, --label <label>", "filesystem label (at most 16 bytes)")
    .option("-U, --uuid <uuid>", "filesystem UUID (default: random, or from --seed)")
    .option("--root-owner <uid:gid>", "owner of the root directory (as mke2fs -E root_owner)")
    .option("--squash-owners", "make every file owned by 0:0 (as genext2fs --squash-uids)")
    .option(
      "-D, --device-table <file>",
      "add or fix device nodes, directories and owners from a genext2fs device table",
    )
    .option(
      "--writer <mode>",
      "how mkfs holds the trees: tree, walk (memory bounded whatever the tree) or auto",
      choice("--writer", ["auto", "tree", "walk"]),
    )
    .option(
      "--bootloader <mode>",
      "grub, none, or auto: GRUB when its files are found",
      choice("--bootloader", ["auto", "grub", "none"]),
    )
    .option(
      "--grub-dir <dir>",
      "GRUB's i386-pc directory (default $GRUB_DIR, /usr/lib/grub/i386-pc)",
    )
    .option("--serial", "GRUB and the kernel on the serial console (ttyS0, 115200)")
    .option("--timeout <seconds>", "seconds GRUB's menu waits (default 0)", integerOption)
    .option("--title <text>", "the menu entry's title (default Linux)")
    .option(
      "--seed <text>",
      "bit-identical rebuilds: UUID, hash seed, disk signature and times come from TEXT",
    )
    .option(
      "--threads <n>",
      "threads copying file contents into a file output (default: cores - 1, at most 4)",
      integerOption,
    )
    .option("--temp-dir <dir>", "directory for temporary files (default $TMPDIR)")
    .option(
      "--config <file>",
      "settings from a TOML (or .json) file whose keys are these flags' names; flags win",
    )
    .option("--json", "print the summary as JSON")
    .option("-q, --quiet", "no notes and no summary")
    .addHelpText(
      "after",
      `
The image is a DOS partition table with one bootable Linux partition, an ext3
filesystem filling it (the root trees laid over each other, the kernel and
initrd, /boot/grub with grub.cfg and menu.lst, read by GRUB and Xen's pygrub),
and GRUB's boot code in the MBR and the gap before the partition. Into a file
it is sparse (zeros are holes); nothing is written when an input is missing,
unreadable or does not fit. The summary goes to standard output, or to
standard error when the image does. SOURCE_DATE_EPOCH clamps times and makes
the output reproducible, like --seed.

Examples:
  bigfile build -o disk.img --rootfs rootfs/ --kernel vmlinuz --initrd initrd.img --serial
      boots in QEMU: qemu-system-x86_64 -m 512 -nographic -drive file=disk.img,format=raw
  bigfile build -o big.img --size 4141875200 --align cylinder --rootfs debian.tar
      the seed's big file: 503 cylinders, partition at byte 32256, 4040316 KiB of ext3
  bigfile build -o xen.img --size auto --free 1G --rootfs rootfs/ --root-device /dev/xvda1
      for a Xen PV guest booted by pygrub
  tar -C rootfs -c . | bigfile build --rootfs - --size auto --align mib > disk.img
  bigfile build -o disk.img --config bigfile.toml --seed v1
  bigfile build -o disk.qcow2 --format qcow2 --rootfs rootfs/ --kernel vmlinuz --size auto`,
    )
    .action(async (flags: BuildFlags) => {
      const settings: BuildSettings = flags.config ? loadBuildConfig(flags.config) : {};
      const { config: _c, json, quiet, size, rootOwner, deviceTable, ...given } = flags;
      for (const [key, value] of Object.entries(given)) {
        if (value !== undefined) (settings as Record<string, unknown>)[key] = value;
      }
      if (size !== undefined) settings.size = sizeOrAuto(size);
      if (rootOwner !== undefined) settings.rootOwner = ownerOption(rootOwner);
      if (deviceTable !== undefined) settings.deviceTable = deviceTable;
      const target = settings.output;
      checkBinaryOutput(io, target);
      const rootfs: RootfsSource[] = (settings.rootfs ?? []).map((s) =>
        s === "-"
          ? {
              kind: "tar-stream",
              stream: openInput(io, "-", { what: "a tar archive" }),
              label: "-",
            }
          : s,
      );
      if ((settings.rootfs ?? []).filter((s) => s === "-").length > 1)
        throw new UsageError("standard input (-) can be a root tree only once");
      const { deviceTable: tablePath, ...rest } = settings;
      const options: BuildOptions = {
        ...rest,
        rootfs,
        env: io.env,
        output:
          target !== undefined && target !== "-"
            ? target
            : io.stdoutFd !== undefined
              ? { fd: io.stdoutFd }
              : { write: (chunk) => writeChunk(io.stdout, chunk) },
      };
      if (tablePath !== undefined) {
        try {
          options.deviceTable = readFileSync(tablePath, "utf8");
        } catch (error) {
          throw new ExitError(
            `Cannot read device table ${tablePath}: ${(error as Error).message}`,
            1,
          );
        }
      }
      const sde = io.env.SOURCE_DATE_EPOCH;
      if (sde !== undefined && sde !== "") {
        if (!/^\d+$/.test(sde))
          throw new UsageError(`SOURCE_DATE_EPOCH must be a number of seconds, got ${sde}`);
        options.sourceDateEpoch = Number(sde);
      }
      if (!quiet) options.log = (m) => io.stderr.write(`bigfile: ${m}\n`);
      // As ext3fs mkfs does: V8 finishes its background optimizing compilations
      // before the process exits (~50 ms here), more than they save on a small
      // tree; such a tree is written with the baseline compilers only.
      if (io.ownsProcess)
        options.onPlanned = ({ files }) => {
          if (files < SMALL_TREE_FILES) setFlagsFromString("--max-opt=1");
        };
      const bar = progressBar(io);
      if (bar) options.onProgress = bar.update;
      let report: BuildReport;
      try {
        report = await build(options);
      } catch (error) {
        if (
          error instanceof RangeError ||
          error instanceof TypeError ||
          error instanceof SyntaxError
        )
          throw new ExitError((error as Error).message, 1);
        throw error;
      } finally {
        bar?.finish();
      }
      if (quiet) return;
      // The summary goes where the image does not.
      const out = target !== undefined && target !== "-" ? io.stdout : io.stderr;
      out.write(json ? jsonText(report) : summaryText(report));
    });
}

/** A progress bar on a terminal's stderr (not in CI): bytes, percent, ETA. */
function progressBar(
  io: CliIo,
): { update(done: number, total: number, files: number): void; finish(): void } | undefined {
  if (!io.stderrIsTTY || io.env.CI) return undefined;
  const started = Date.now();
  let last = 0;
  let lastDone = -1;
  let shown = false;
  return {
    update(done, total, files) {
      const now = Date.now();
      if (now - started < 1000 || done === lastDone || (now - last < 250 && done < total)) return;
      lastDone = done;
      last = now;
      shown = true;
      const share = total > 0 ? done / total : 1;
      const width = 24;
      const filled = Math.round(share * width);
      const eta =
        share > 0 ? Math.max(0, Math.round(((now - started) / share - (now - started)) / 1000)) : 0;
      io.stderr.write(
        `\rbigfile build [${"#".repeat(filled)}${".".repeat(width - filled)}] ${formatSize(done)} of ${formatSize(total)} ${(100 * share).toFixed(0)}% (${files} files), ETA ${eta} s\x1b[K`,
      );
    },
    finish() {
      if (shown) io.stderr.write("\r\x1b[K");
    },
  };
}

/** The human summary. */
export function summaryText(r: BuildReport): string {
  const p = r.partition;
  const f = r.filesystem;
  const lines = [
    `${r.output}: ${r.format === "raw" ? "" : `${r.format} image of a disk of `}${r.bytes} bytes (${formatSize(r.bytes)}), ${r.geometry.heads} heads, ${r.geometry.sectorsPerTrack} sectors/track, ${r.geometry.cylinders} cylinders, disk signature ${r.diskSignature}`,
    `partition 1: sectors ${p.start}-${p.start + p.sectors - 1} (byte ${p.offset}, ${p.bytes} bytes = ${p.bytes / 1024} KiB), type 83 Linux, bootable, ${p.align}-aligned`,
    `filesystem: ${f.type}, ${f.blocks} blocks of ${f.blockSize} bytes (${f.bytes / 1024} KiB), ${f.inodesUsed} of ${f.inodes} inodes used, ${formatSize(f.freeBlocks * f.blockSize)} free${f.journalBlocks ? `, journal ${f.journalBlocks} blocks` : ""}, UUID ${f.uuid}`,
    r.bootloader.kind === "grub"
      ? `boot loader: GRUB 2 (${r.bootloader.grubDir}): boot.img in the MBR, core.img in sectors ${r.bootloader.kernelSector}-${r.bootloader.kernelSector + r.bootloader.coreSectors + r.bootloader.paritySectors - 1} (${r.bootloader.paritySectors} of Reed-Solomon parity)`
      : `boot loader: none (${r.bootloader.reason}): boots through pygrub or a direct kernel boot`,
    `boot: ${r.boot.kernel ?? "no kernel"}${r.boot.initrd ? ` + ${r.boot.initrd}` : ""}, "${r.boot.cmdline}", menus ${r.boot.configs.join(" and ")}`,
  ];
  const allocated =
    r.allocatedBytes !== undefined ? `${formatSize(r.allocatedBytes)} allocated on disk, ` : "";
  lines.push(`done: ${allocated}${r.seconds.toFixed(2)} s`);
  return `${lines.join("\n")}\n`;
}
