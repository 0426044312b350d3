import { closeSync, fstatSync, openSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { FileDevice, readFd, readFile } from "@bigfile/blockdev/node";
import {
  checkBinaryInput,
  checkBinaryOutput,
  openInput,
  sizeOption,
  withProgress,
  writeOutput,
} from "@bigfile/blockdev/stdio";
import { ExitError, UsageError } from "@bigfile/cli-kit";
import { type CliIo, createProgram, runProgram } from "@bigfile/cli-kit/node";
import { InvalidArgumentError } from "commander";
import { FilesystemProbeError, PartitionLayoutError, PartitionTableError } from "./errors.ts";
import { formatFdiskListing, formatLegacyListing } from "./fdisk_listing.ts";
import type { DiskTable, PartitionTable } from "./partition_table.ts";
import { parsePartitionType } from "./partition_types.ts";
import type { Alignment } from "./plan_layout.ts";
import {
  type FilesystemSize,
  PROBE_HEAD_BYTES,
  probeFilesystemSize,
} from "./probe_filesystem_size.ts";
import { readHead } from "./read_head.ts";
import { readPartitions } from "./read_partitions.ts";
import { formatSfdiskJson, parseSfdiskJson } from "./sfdisk_json.ts";
import { formatSfdiskDump, parseSfdiskScript, scriptToTable } from "./sfdisk_script.ts";
import { StreamSectorReader } from "./stream_sector_reader.ts";
import { validateTable } from "./validate_table.ts";
import { planWrap, type WrapPlan, wrapPartition } from "./wrap_partition.ts";
import { readLabelId, writeTable } from "./write_table.ts";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

function alignOption(value: string): Alignment {
  if (value === "cylinder" || value === "mib" || value === "sector") return value;
  throw new InvalidArgumentError("expected cylinder, mib or sector");
}

function typeOption(value: string): number {
  try {
    return parsePartitionType(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function labelIdOption(value: string): number {
  if (!/^(0x)?[0-9a-f]{1,8}$/i.test(value))
    throw new InvalidArgumentError("expected a 32-bit hex number like 0x12345678");
  return Number.parseInt(value.replace(/^0x/i, ""), 16) >>> 0;
}

function partitionNumber(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError("expected a partition number (1-4 primary, 5+ logical)");
  return Number(value);
}

function randomLabelId(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] as number;
}

/** Errors from the library become one-line failures. */
function asExit(error: unknown): never {
  if (error instanceof PartitionTableError || error instanceof PartitionLayoutError) {
    const at = error.offset >= 0 ? ` (at byte ${error.offset})` : "";
    throw new ExitError(`${lower(error.message)}${at}`);
  }
  throw error;
}

function lower(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The path behind standard input when it is a regular file (`< image`), else undefined. */
function stdinFilePath(io: CliIo): string | undefined {
  if (io.stdinFd === undefined) return undefined;
  try {
    return fstatSync(io.stdinFd).isFile() ? `/dev/fd/${io.stdinFd}` : undefined;
  } catch {
    return undefined;
  }
}

interface OpenedTable {
  table: DiskTable;
  device: string;
  /** For a pipe: the rest of the stream after the table's sectors. */
  stream?: StreamSectorReader;
}

async function openTable(
  io: CliIo,
  image: string | undefined,
  until?: number,
): Promise<OpenedTable> {
  const named = image !== undefined && image !== "-";
  const device = named ? image : "stdin";
  // A named FIFO (`<(...)`, /dev/stdin on a pipe) is read as a stream, as a pipe on stdin is.
  const path = named ? (isStreamPath(image) ? undefined : image) : stdinFilePath(io);
  if (path !== undefined) {
    const dev = await FileDevice.open(path, { readOnly: true });
    try {
      return { table: await readPartitions(dev).catch(asExit), device };
    } finally {
      await dev.close();
    }
  }
  let source: AsyncIterable<Uint8Array>;
  if (named) source = readStreamPath(image);
  else {
    checkBinaryInput(io, image);
    source =
      io.stdinFd !== undefined ? readFd(io.stdinFd) : (io.stdin as AsyncIterable<Uint8Array>);
  }
  const stream = new StreamSectorReader(source);
  const table = await readPartitions(stream, until === undefined ? {} : { until }).catch(asExit);
  return { table, device, stream };
}

function refuseGpt(table: DiskTable): void {
  if (table.gpt)
    throw new ExitError(
      "this is a GPT disk (protective MBR entry 0xEE); use a GPT tool such as sfdisk or sgdisk",
    );
}

/** The `mbr` command line. */
export function main(args: string[], io: CliIo): Promise<number> {
  const program = createProgram("mbr", version, io);
  program
    .description(
      "DOS (MBR) partition tables on disk image files: print, apply sfdisk scripts, wrap a partition into a disk, extract a partition.",
    )
    .addHelpText(
      "after",
      `
Examples:
  mbr wrap --align cylinder --disk-size 4141875200 --bootable < part.img > big.img
                                      the seed's disk: partition 1 at sector 63, 8080632 sectors
  mbr print big.img                   like fdisk -l
  mbr print --units cylinders big.img the legacy listing: Device Boot Start End Blocks Id System
  mbr print --json big.img            like sfdisk --json
  mbr print --dump big.img > t.txt    like sfdisk --dump; edit, then:
  mbr apply big.img < t.txt           write the table in place (boot code and disk signature kept)
  mbr extract 1 big.img > part.img    partition 1's bytes (logical partitions from 5)`,
    );

  program
    .command("print")
    .description("print the partition table (fdisk -l style; --json, --dump, or --units cylinders)")
    .argument("[image]", "disk image (default: standard input)")
    .option("--json", "the shape of sfdisk --json")
    .option("--dump", "the sfdisk script format (sfdisk --dump)")
    .option(
      "--units <unit>",
      "sectors (default) or cylinders: the legacy fdisk listing with 1-KiB Blocks",
      "sectors",
    )
    .option("--device <name>", "the device name to show (default: IMAGE)")
    .action(
      async (
        image: string | undefined,
        opts: { json?: boolean; dump?: boolean; units: string; device?: string },
      ) => {
        if (opts.units !== "sectors" && opts.units !== "cylinders")
          throw new UsageError(`--units takes sectors or cylinders, not '${opts.units}'`);
        const opened = await openTable(io, image);
        const { table } = opened;
        refuseGpt(table);
        let diskSize = table.diskSize;
        if (opened.stream) {
          // The disk's size is the stream's length: read it to the end.
          for await (const _chunk of opened.stream.reader.rest());
          diskSize = opened.stream.reader.position;
        }
        const device = opts.device ?? opened.device;
        const report = validateTable(table, diskSize === undefined ? {} : { diskSize });
        for (const e of report.errors) io.stderr.write(`mbr: warning: ${lower(e.message)}\n`);
        for (const w of report.warnings) io.stderr.write(`mbr: warning: ${lower(w.message)}\n`);
        if (opts.json) io.stdout.write(formatSfdiskJson(table, device));
        else if (opts.dump) io.stdout.write(formatSfdiskDump(table, { device }));
        else if (opts.units === "cylinders")
          io.stdout.write(
            formatLegacyListing(table, { device, ...(diskSize !== undefined && { diskSize }) }),
          );
        else
          io.stdout.write(
            formatFdiskListing(table, { device, ...(diskSize !== undefined && { diskSize }) }),
          );
      },
    );

  program
    .command("apply")
    .description(
      "write the table of an sfdisk script (or sfdisk JSON) from standard input into IMAGE, in place",
    )
    .argument("<image>", "disk image file, changed in place")
    .option(
      "--align <mode>",
      "alignment for starts and sizes the script leaves out: cylinder, mib or sector",
      alignOption,
      "mib",
    )
    .option("-n, --dry-run", "check and print the resulting table, write nothing")
    .addHelpText(
      "after",
      "\nBoot code (bytes 0-439) and the disk signature are kept unless the script sets label-id.\nAn invalid table (overlaps, past the end, ...) is refused and IMAGE is left unchanged.",
    )
    .action(async (image: string, opts: { align: Alignment; dryRun?: boolean }) => {
      if (io.stdinIsTTY)
        throw new UsageError(
          "standard input is a terminal; pipe an sfdisk script in (mbr apply IMAGE < script.txt)",
        );
      let text = "";
      const decoder = new TextDecoder();
      for await (const chunk of openInput(io, "-", { what: "an sfdisk script" }))
        text += decoder.decode(chunk, { stream: true });
      text += decoder.decode();
      const dev = await FileDevice.open(image, { readOnly: Boolean(opts.dryRun) });
      try {
        let old: DiskTable | undefined;
        try {
          old = await readPartitions(dev);
        } catch {
          old = undefined;
        }
        if (old?.gpt)
          throw new ExitError(
            `'${image}' holds a GPT (protective MBR entry 0xEE); refusing to overwrite it with a DOS table`,
          );
        const labelId = (await readLabelId(dev)) ?? randomLabelId();
        let table: PartitionTable;
        try {
          if (text.trimStart().startsWith("{")) {
            table = parseSfdiskJson(text);
            if (!/"id"\s*:/.test(text)) table.labelId = labelId;
          } else {
            table = scriptToTable(parseSfdiskScript(text), {
              diskSize: dev.size,
              labelId,
              align: opts.align,
            });
          }
        } catch (error) {
          if (error instanceof PartitionLayoutError) {
            throw new ExitError(`${lower(error.message)}; '${image}' was not changed`);
          }
          if (error instanceof SyntaxError && !(error instanceof PartitionTableError))
            throw new ExitError(lower(error.message));
          asExit(error);
        }
        const report = validateTable(table, { diskSize: dev.size });
        if (report.errors[0])
          throw new ExitError(`${lower(report.errors[0].message)}; '${image}' was not changed`);
        for (const w of report.warnings) io.stderr.write(`mbr: warning: ${lower(w.message)}\n`);
        if (opts.dryRun) {
          io.stdout.write(formatSfdiskDump(table, { device: image }));
          return;
        }
        await writeTable(dev, table).catch(asExit);
      } finally {
        await dev.close();
      }
    });

  program
    .command("wrap")
    .description("a partition image in, a whole disk out: table, gap, partition, padding")
    .argument("[partition]", "partition image (default: standard input)")
    .option(
      "-o, --output <file>",
      "write the disk here (atomically, sparse) instead of standard output",
    )
    .option(
      "--disk-size <size>",
      "size of the disk (default: the smallest that fits the alignment)",
      sizeOption,
    )
    .option(
      "--partition-size <size>",
      "size of the partition image: bytes, 4G, 512MiB, 8080632s (default: a file's length; from a pipe, the rest of --disk-size if given, else the size its filesystem's header states)",
      sizeOption,
    )
    .option(
      "--align <mode>",
      "cylinder (start 63, the seed's), mib (start 2048) or sector (start 1)",
      alignOption,
      "mib",
    )
    .option("--type <id>", "partition type (hex, or L/S/U/...)", typeOption, 0x83)
    .option("--bootable", "mark partition 1 bootable")
    .option("--label-id <hex>", "disk signature (default: random)", labelIdOption)
    .addHelpText(
      "after",
      `
Examples:
  mbr wrap --align cylinder --disk-size 4141875200 < part.img > big.img
  ext3fs mkfs --size 600M rootfs/ | mbr wrap --bootable --align cylinder | grub-mbr install > disk.img
      (from a pipe the partition is as long as the filesystem says it is, read from the
      header of ${PROBED_TYPES};
      anything else needs --partition-size SIZE)
  ext3fs mkfs --blocks 4040316 rootfs/ | mbr wrap --align cylinder --disk-size 4141875200 > big.img
      (with --disk-size the partition fills the disk: sector 63 to the end of the last whole cylinder)`,
    )
    .action(async (partition: string | undefined, opts: WrapCliOptions) => {
      checkBinaryOutput(io, opts.output);
      const { source, plan, probed, sizedByProbe } = await openWrapInput(io, partition, opts);
      try {
        await writeOutput(
          io,
          withProgress(io, "mbr wrap", plan.diskSize, wrapPartition(source, plan)),
          opts.output,
        );
      } catch (error) {
        if (error instanceof RangeError && /longer than/.test(error.message)) {
          if (probed && sizedByProbe)
            throw new ExitError(
              `the partition image goes on past the ${probed.bytes} bytes of its ${fsName(probed)} (${stated(probed)}); give --partition-size SIZE to wrap all of it`,
            );
          throw new ExitError(lower(error.message));
        }
        throw error;
      }
    });

  program
    .command("extract")
    .description("write partition N's bytes (1-4 primary, 5+ logical) to standard output")
    .argument("<n>", "partition number", partitionNumber)
    .argument("[image]", "disk image (default: standard input)")
    .option("-o, --output <file>", "write here (atomically, sparse) instead of standard output")
    .action(async (n: number, image: string | undefined, opts: { output?: string }) => {
      checkBinaryOutput(io, opts.output);
      const opened = await openTable(io, image, n);
      refuseGpt(opened.table);
      const p = opened.table.partitions.find((q) => q.number === n);
      if (!p) {
        const have = opened.table.partitions.map((q) => q.number).join(", ") || "none";
        throw new ExitError(`no partition ${n} in ${opened.device} (partitions: ${have})`);
      }
      if (p.kind === "extended")
        throw new ExitError(
          `partition ${n} is the extended container; extract its logical partitions (5, 6, ...) instead`,
        );
      const ss = opened.table.sectorSize;
      const offset = p.start * ss;
      const length = p.size * ss;
      if (opened.stream) {
        const reader = opened.stream.reader;
        if (offset < reader.position)
          throw new ExitError(
            `partition ${n} starts before the table's last EBR in the stream; give the image as a file`,
          );
        await reader.skip(offset - reader.position).catch(() => {
          throw new ExitError(`the image ends before partition ${n} starts (byte ${offset})`);
        });
        let got = 0;
        const counted = async function* () {
          for await (const chunk of reader.take(length)) {
            got += chunk.length;
            yield chunk;
          }
        };
        await writeOutput(io, withProgress(io, "mbr extract", length, counted()), opts.output);
        if (got < length)
          throw new ExitError(
            `the image ends ${length - got} bytes before the end of partition ${n}`,
          );
        return;
      }
      const path = image !== undefined && image !== "-" ? image : (stdinFilePath(io) as string);
      const size = fstatSize(path);
      if (offset + length > size)
        throw new ExitError(
          `partition ${n} ends at byte ${offset + length}, past the end of the image (${size} bytes)`,
        );
      await writeOutput(
        io,
        withProgress(io, "mbr extract", length, readFile(path, { offset, length })),
        opts.output,
      );
    });

  return runProgram(program, args, io);
}

/** The options of `mbr wrap`. */
interface WrapCliOptions {
  output?: string;
  diskSize?: number;
  partitionSize?: number;
  align: Alignment;
  type: number;
  bootable?: boolean;
  labelId?: number;
}

/** `mbr wrap`'s partition image, opened, and the disk planned around it. */
interface WrapInput {
  source: AsyncIterable<Uint8Array>;
  plan: WrapPlan;
  /** The filesystem at the head of a stream, when one is recognised. */
  probed: FilesystemSize | undefined;
  /** Whether the partition's size is the one `probed` states. */
  sizedByProbe: boolean;
}

/**
 * Opens `mbr wrap`'s input and sizes its partition: a regular file by its
 * length; a stream (a pipe, a FIFO, `<(...)`) by --partition-size, or else by
 * the size its filesystem's header states (the stream's head is held and
 * probed), or else it fills --disk-size. A recognised filesystem that would
 * not fit is refused before the first byte is written.
 */
async function openWrapInput(
  io: CliIo,
  partition: string | undefined,
  opts: WrapCliOptions,
): Promise<WrapInput> {
  let partitionSize = opts.partitionSize;
  let source: AsyncIterable<Uint8Array>;
  // Chunks may share one buffer only when each is written before the next is read.
  const reuseBuffer = opts.output !== undefined || io.stdoutFd !== undefined;
  let fileSize: number | undefined;
  if (partition !== undefined && partition !== "-") {
    if (isStreamPath(partition)) source = readStreamPath(partition, { reuseBuffer });
    else {
      fileSize = fstatSize(partition);
      source = readFile(partition, { reuseBuffer });
    }
  } else {
    if (stdinFilePath(io) !== undefined) fileSize = fstatSync(io.stdinFd as number).size;
    source = openInput(io, "-", { what: "a partition image", reuseBuffer });
  }
  if (fileSize !== undefined && partitionSize !== undefined && fileSize > partitionSize) {
    throw new ExitError(
      `the partition image holds ${fileSize} bytes, more than --partition-size ${partitionSize}; nothing was written`,
    );
  }
  partitionSize ??= fileSize;
  let probed: FilesystemSize | undefined;
  let sizedByProbe = false;
  let cancel: (() => Promise<void>) | undefined;
  try {
    if (fileSize === undefined) {
      // A stream has no length ahead of its end, but a filesystem states its own in its header.
      const held = await readHead(source, PROBE_HEAD_BYTES);
      source = held.stream;
      cancel = held.cancel;
      try {
        probed = probeFilesystemSize(held.head);
      } catch (error) {
        if (!(error instanceof FilesystemProbeError)) throw error;
        // Two headers that disagree: no size to trust (nor to check a given size against).
        if (partitionSize === undefined && opts.diskSize === undefined)
          throw new ExitError(`${lower(error.message)}; give --partition-size SIZE`);
      }
      if (partitionSize === undefined && opts.diskSize === undefined) {
        if (held.head.length === 0)
          throw new ExitError("the partition image is empty: nothing to wrap");
        if (!probed)
          throw new UsageError(
            `cannot tell the partition's size from a pipe: no ${PROBED_TYPES} header at its head; give --partition-size SIZE (or --disk-size SIZE, which the partition fills), or redirect a file (< part.img)`,
          );
        partitionSize = probed.bytes;
        sizedByProbe = true;
      }
    }
    let plan: WrapPlan;
    try {
      plan = planWrap({
        ...(partitionSize !== undefined && { partitionSize }),
        ...(opts.diskSize !== undefined && { diskSize: opts.diskSize }),
        align: opts.align,
        type: opts.type,
        bootable: Boolean(opts.bootable),
        labelId: opts.labelId ?? randomLabelId(),
      });
    } catch (error) {
      asExit(error);
    }
    if (probed && probed.bytes > plan.partitionLength) {
      // Refused before the first byte out: a filesystem cut short is lost data.
      const room =
        opts.partitionSize !== undefined
          ? `--partition-size ${opts.partitionSize} gives it`
          : `that fits on the ${plan.diskSize}-byte disk`;
      throw new ExitError(
        `the ${fsName(probed)} in the partition image is ${probed.bytes} bytes (${stated(probed)}), more than the ${plan.partitionLength}-byte partition ${room}; nothing was written`,
      );
    }
    return { source, plan, probed, sizedByProbe };
  } catch (error) {
    await cancel?.();
    throw error;
  }
}

function fstatSize(path: string): number {
  return statSync(path).size;
}

/** A named input with no length ahead of its end: a FIFO, `<(...)`, `/dev/stdin` on a pipe. */
function isStreamPath(path: string): boolean {
  const stat = statSync(path);
  return stat.isFIFO() || stat.isSocket() || stat.isCharacterDevice();
}

/** The bytes of a named stream (see {@linkcode isStreamPath}), read as standard input is. */
async function* readStreamPath(
  path: string,
  options: { reuseBuffer?: boolean } = {},
): AsyncGenerator<Uint8Array> {
  const fd = openSync(path, "r");
  try {
    yield* readFd(fd, options);
  } finally {
    closeSync(fd);
  }
}

/** The formats {@linkcode probeFilesystemSize} knows, for messages. */
const PROBED_TYPES = "ext2/3/4, swap, FAT, XFS, btrfs or squashfs";

/** What a probed filesystem is called in messages. */
function fsName(fs: FilesystemSize): string {
  if (fs.type === "swap") return "swap area";
  if (fs.type === "jbd") return "ext3/4 journal device";
  return `${fs.type} filesystem`;
}

/** Where a probed size comes from, for messages. */
function stated(fs: FilesystemSize): string {
  const where =
    fs.type === "swap" ? "header" : fs.type.startsWith("fat") ? "boot sector" : "superblock";
  return `as its ${where} states`;
}
