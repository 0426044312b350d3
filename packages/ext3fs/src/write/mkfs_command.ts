import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { type CopyPool, canWriteSparse } from "@bigfile/blockdev/node";
import {
  checkBinaryOutput,
  createProgress,
  openInput,
  sizeOption,
  writeOutput,
} from "@bigfile/blockdev/stdio";
import { ExitError, jsonText, UsageError } from "@bigfile/cli-kit";
import { type CliIo, integerOption } from "@bigfile/cli-kit/node";
import type { Command } from "commander";
import { checkMkfsOptions, MKFS_DEFAULTS, WALK_ABOVE_ENTRIES } from "./_mkfs_options.ts";
import { ExtOptionError } from "./errors.ts";
import { createCopier, filesystemOutput } from "./filesystem_output.ts";
import { type MkfsOptions, type MkfsSource, mkfs } from "./mkfs.ts";

/** Trees with fewer inodes are written without V8's optimizing compiler (see below). */
const SMALL_TREE_INODES = 20_000;

interface MkfsFlags {
  type: string;
  features?: string;
  size?: number;
  free?: number;
  blocks?: number;
  blockSize?: number;
  inodeSize?: number;
  inodes?: number;
  bytesPerInode?: number;
  reservedPercent?: number;
  label?: string;
  uuid?: string;
  seed?: string;
  output?: string;
  rootOwner?: string;
  deviceTable?: string;
  squashOwners?: boolean;
  json?: boolean;
  quiet?: boolean;
  threads?: number;
  writer: string;
}

function ownerOption(value: string): { uid: number; gid: number } {
  const m = /^(\d+):(\d+)$/.exec(value);
  if (!m)
    throw new UsageError(`--root-owner wants UID:GID (numbers), got ${JSON.stringify(value)}`);
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

function percentOption(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n))
    throw new UsageError(`-m wants a percentage from 0 to 50, got ${value}`);
  return n;
}

/** The flag of each option, to word {@linkcode ExtOptionError}s. */
const FLAGS: Partial<Record<keyof MkfsOptions, string>> = {
  type: "-t",
  features: "-O",
  writer: "--writer",
  size: "--size",
  blocks: "--blocks",
  freeBytes: "--free",
  reservedPercent: "-m",
  label: "-L",
  uuid: "-U",
};

function usageError(error: ExtOptionError<keyof MkfsOptions>): UsageError {
  const flag = (option: keyof MkfsOptions) => FLAGS[option] ?? option;
  if (error.conflictsWith)
    return new UsageError(`give ${flag(error.option)} or ${flag(error.conflictsWith)}, not both`);
  if (error.reason) return new UsageError(`${flag(error.option)} ${error.got}: ${error.reason}`);
  return new UsageError(`${flag(error.option)} wants ${error.wants}, got ${error.got}`);
}

/** Adds `ext3fs mkfs` to the program. */
export function addMkfsCommand(program: Command, io: CliIo): void {
  program
    .command("mkfs")
    .description(
      "write an ext2/ext3/ext4 filesystem built from directories and tar archives (a stream, no root needed)",
    )
    .argument(
      "[source...]",
      "directories, tar files, or - for a tar on standard input; later ones overlay earlier ones",
    )
    .option(
      "-t, --type <type>",
      "ext3 (with a journal), ext2, or ext4 (extents, flex_bg, 64bit, metadata_csum, ...)",
      MKFS_DEFAULTS.type,
    )
    .option(
      "-O, --features <list>",
      "add or remove features as mke2fs -O: e.g. ^metadata_csum,^64bit for older boot loaders",
    )
    .option("--size <size>", "filesystem size (bytes, 4G, 512MiB, 8080632s)", sizeOption)
    .option(
      "--free <size>",
      "without --size/--blocks: free space to keep beyond the tree (default: about 10%)",
      sizeOption,
    )
    .option(
      "--blocks <n>",
      "filesystem size in blocks, counted like mke2fs: 1 KiB units unless -b is given",
      integerOption,
    )
    .option(
      "-b, --block-size <bytes>",
      "block size: 1024, 2048 or 4096 (default: by size, as mke2fs)",
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
      percentOption,
    )
    .option("-L, --label <label>", "volume label (at most 16 bytes)")
    .option("-U, --uuid <uuid>", "filesystem UUID (default: random, or from --seed)")
    .option(
      "--seed <text>",
      "reproducible output: UUID, hash seed and times of created objects come from TEXT",
    )
    .option("--root-owner <uid:gid>", "owner of the root directory (as mke2fs -E root_owner)")
    .option(
      "-D, --device-table <file>",
      "add or fix device nodes, directories and owners from a genext2fs device table",
    )
    .option("--squash-owners", "make every file owned by 0:0 (as genext2fs --squash-uids)")
    .option("--squash-uids", "same as --squash-owners")
    .option(
      "-o, --output <file>",
      "write the image to FILE (sparse, atomic) instead of standard output",
    )
    .option(
      "--threads <n>",
      "threads that copy file contents when the output is a regular file (default: cores - 1, at most 4; 0: none)",
      integerOption,
    )
    .option(
      "--writer <mode>",
      `tree (metadata in memory, then streamed), walk (walked twice, one directory in memory: memory bounded whatever the tree; no device table) or auto: tree, or walk past ${WALK_ABOVE_ENTRIES} entries`,
      MKFS_DEFAULTS.writer,
    )
    .option("--json", "print the report as JSON on standard error")
    .option("-q, --quiet", "no report on standard error")
    .addHelpText(
      "after",
      `
The filesystem is streamed: blocks in increasing order, file contents read only
when their blocks come up. Everything that can fail (the tree does not fit, a
name over 255 bytes, an unreadable file, a truncated tar) is reported before the
first byte. Without --size/--blocks the smallest filesystem that fits the input
plus about 10% is made. SOURCE_DATE_EPOCH clamps times and makes the output
reproducible, like --seed.

Sources with more than ${WALK_ABOVE_ENTRIES} entries (${WALK_ABOVE_ENTRIES / 4} with a tar) are not kept in
memory: mkfs walks them twice instead, one directory at a time (first to measure and check, then to
write by position; a tar is laid out in $TMPDIR first), so memory stays bounded
whatever the tree; into a pipe the image is built in a temporary file first.
--writer walk forces this (needed for a tar on standard input, which cannot be
read twice), --writer tree keeps the tree; the bytes are the same.

Examples:
  ext3fs mkfs rootfs/ --blocks 4040316 -o part.img     the seed's 4040316-KiB ext3
  ext3fs mkfs rootfs/ boot.tar -L root --seed v1 > part.img
  tar -C rootfs -c . | ext3fs mkfs - -t ext2 --root-owner 0:0 -o part.img
  ext3fs mkfs rootfs/ --size 3G | mbr wrap --align cylinder > disk.img
  ext3fs mkfs -t ext4 rootfs/ -o part.img                mke2fs -t ext4's features
  ext3fs mkfs -t ext4 -O ^metadata_csum,^64bit rootfs/ -o part.img   for older GRUB/pygrub/syslinux`,
    )
    .action(async (sourceArgs: string[], flags: MkfsFlags & { squashUids?: boolean }) => {
      checkBinaryOutput(io, flags.output);
      const stdinCount = sourceArgs.filter((s) => s === "-").length;
      if (stdinCount > 1) throw new UsageError("standard input (-) can be a source only once");
      const sources: MkfsSource[] = sourceArgs.map((s) =>
        s === "-"
          ? {
              kind: "tar-stream",
              stream: openInput(io, "-", { what: "a tar archive" }),
              label: "-",
            }
          : s,
      );
      // Parsed here; checked (with every other option) by the library, as usage errors.
      const options: MkfsOptions = {
        type: flags.type as NonNullable<MkfsOptions["type"]>,
        writer: flags.writer as NonNullable<MkfsOptions["writer"]>,
      };
      if (flags.features !== undefined) options.features = flags.features;
      if (flags.size !== undefined) options.size = flags.size;
      if (flags.blocks !== undefined) options.blocks = flags.blocks;
      if (flags.free !== undefined) options.freeBytes = flags.free;
      if (flags.blockSize !== undefined) options.blockSize = flags.blockSize;
      if (flags.inodeSize !== undefined) options.inodeSize = flags.inodeSize;
      if (flags.inodes !== undefined) options.inodes = flags.inodes;
      if (flags.bytesPerInode !== undefined) options.bytesPerInode = flags.bytesPerInode;
      if (flags.reservedPercent !== undefined) options.reservedPercent = flags.reservedPercent;
      if (flags.label !== undefined) options.label = flags.label;
      if (flags.uuid !== undefined) options.uuid = flags.uuid;
      if (flags.seed !== undefined) options.seed = flags.seed;
      if (flags.rootOwner !== undefined) options.rootOwner = ownerOption(flags.rootOwner);
      if (flags.squashOwners || flags.squashUids) options.squashOwners = true;
      if (flags.deviceTable !== undefined) {
        try {
          options.deviceTable = readFileSync(flags.deviceTable, "utf8");
        } catch (error) {
          throw new ExitError(
            `Cannot read device table ${flags.deviceTable}: ${(error as Error).message}`,
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
      try {
        checkMkfsOptions(options);
      } catch (error) {
        throw error instanceof ExtOptionError ? usageError(error) : error;
      }
      if (!flags.quiet && !flags.json) options.log = (m) => io.stderr.write(`ext3fs: ${m}\n`);
      // Into a regular file, worker threads check the source files as the walk
      // finds them and copy their contents beside the rest of the stream.
      if (flags.threads !== undefined && flags.threads > 64)
        throw new UsageError(`--threads wants 0 to 64, got ${flags.threads}`);
      const toFile =
        (flags.output !== undefined && flags.output !== "-") ||
        (io.stdoutFd !== undefined && canWriteSparse(io.stdoutFd));
      const pool = toFile ? createCopier(flags.threads) : undefined;
      try {
        await writeImage(io, sources, options, flags, pool);
      } finally {
        await pool?.close();
      }
    });
}

async function writeImage(
  io: CliIo,
  sources: MkfsSource[],
  options: MkfsOptions,
  flags: MkfsFlags,
  pool: CopyPool | undefined,
): Promise<void> {
  let image: Awaited<ReturnType<typeof mkfs>>;
  try {
    image = await mkfs(sources, pool ? { ...options, copier: pool } : options);
  } catch (error) {
    if (
      error instanceof RangeError ||
      error instanceof TypeError ||
      (error as { code?: string }).code
    ) {
      throw new ExitError((error as Error).message, 1);
    }
    throw error;
  }
  const r = image.report;
  const g = r.geometry;
  // V8 finishes its background (TurboFan) compilations before a process
  // exits: ~50 ms on a 2-core machine, more than optimized code saves while
  // writing a small tree (under ~20k inodes). Such a tree is written with
  // V8's baseline compilers only; big trees keep the optimizing compiler.
  if (io.ownsProcess && r.inodesUsed < SMALL_TREE_INODES) setFlagsFromString("--max-opt=1");
  const progress = createProgress(io, "ext3fs mkfs", image.size);
  // blockdev's file and descriptor sinks write each chunk before pulling the next.
  const reuseBuffers =
    (flags.output !== undefined && flags.output !== "-") || io.stdoutFd !== undefined;
  const { chunks, sinkOptions } = filesystemOutput(image, {
    copier: pool,
    reuseBuffers,
    onProgress: (done) => progress.update(done),
  });
  await writeOutput(io, chunks, flags.output, sinkOptions);
  progress.finish();
  if (flags.json) io.stderr.write(jsonText(r));
  else if (!flags.quiet) {
    io.stderr.write(
      `ext3fs: ${flags.type} ${g.blocksCount} blocks of ${g.blockSize} bytes (${r.bytes} bytes), ` +
        `${g.groupCount} groups, ${g.inodesCount} inodes (${r.inodesUsed} used), ` +
        `journal ${g.journalBlocks} blocks, UUID ${r.uuid}\n`,
    );
  }
}
