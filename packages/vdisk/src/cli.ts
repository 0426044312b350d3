import { fstatSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename } from "node:path";
import { FileDevice, readFd, readFile } from "@bigfile/blockdev/node";
import {
  checkBinaryInput,
  checkBinaryOutput,
  createProgress,
  type Progress,
  sizeOption,
  withProgress,
  writeChunk,
} from "@bigfile/blockdev/stdio";
import { ExitError, jsonText, UsageError } from "@bigfile/cli-kit";
import { type CliIo, createProgram, runProgram } from "@bigfile/cli-kit/node";
import { InvalidArgumentError, Option } from "commander";
import { hasZstd, nodeCodecs, zstdMissing } from "./_node_zlib.ts";
import { containerFileImage } from "./container_file_image.ts";
import { ImageFormatError } from "./errors.ts";
import { FdSink, writeImageFile } from "./file_sink.ts";
import type { ImageDevice, ImageFormat } from "./image_device.ts";
import type { ImageSink, RawImage } from "./image_sink.ts";
import { openImage } from "./open_image.ts";
import { type RawFileImageOptions, rawFileImage } from "./raw_file_image.ts";
import {
  allocationUnit,
  SEEKABLE_FORMATS,
  type WriteImageOptions,
  writeImage,
} from "./write_image.ts";

const nodeRequire = createRequire(import.meta.url);
const { version } = nodeRequire("../package.json") as { version: string };

const FORMATS: readonly ImageFormat[] = ["qcow2", "vhd", "vhd-fixed", "vmdk", "vmdk-stream", "raw"];

function lower(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Library errors become one-line failures. */
function asExit(error: unknown): never {
  if (error instanceof ImageFormatError) {
    const at = error.offset > 0 ? ` (at byte ${error.offset})` : "";
    throw new ExitError(`${lower(error.message)}${at}`);
  }
  if (error instanceof RangeError || error instanceof TypeError) {
    if (!(error as NodeJS.ErrnoException).code) throw new ExitError(lower(error.message));
  }
  throw error;
}

function clusterSizeOption(value: string): number {
  const size = sizeOption(value);
  if (size < 512 || size > 2 << 20 || (size & (size - 1)) !== 0) {
    throw new InvalidArgumentError("expected a power of two from 512 to 2M");
  }
  return size;
}

/** A sink over a Node stream (tests' in-memory standard output): in order only. */
class StreamSink implements ImageSink {
  readonly seekable = false;
  #position = 0;
  #io: CliIo;
  constructor(io: CliIo) {
    this.#io = io;
  }
  async write(position: number, bytes: Uint8Array): Promise<void> {
    if (position < this.#position) throw new RangeError("Cannot seek back in a stream");
    await this.#fill(position);
    await writeChunk(this.#io.stdout, bytes.slice());
    this.#position += bytes.length;
  }
  end(size: number): Promise<void> {
    return this.#fill(size);
  }
  async #fill(position: number): Promise<void> {
    while (this.#position < position) {
      const length = Math.min(1 << 20, position - this.#position);
      await writeChunk(this.#io.stdout, new Uint8Array(length));
      this.#position += length;
    }
  }
}

interface Input {
  image: RawImage;
  close: () => Promise<void>;
}

/** The path behind standard input when it is a regular file. */
function stdinFile(io: CliIo): string | undefined {
  if (io.stdinFd === undefined) return undefined;
  try {
    return fstatSync(io.stdinFd).isFile() ? `/dev/fd/${io.stdinFd}` : undefined;
  } catch {
    return undefined;
  }
}

async function openSource(
  io: CliIo,
  source: string | undefined,
  size: number | undefined,
  from: ImageFormat | undefined,
  rawOptions: RawFileImageOptions = {},
  intoFile = false,
): Promise<Input> {
  const path = source !== undefined && source !== "-" ? source : stdinFile(io);
  if (path !== undefined) {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      throw new UsageError(
        `${path} is a directory: give a disk image file (raw, qcow2, VHD or VMDK)`,
      );
    }
    if (stat.isFile()) {
      const file = await FileDevice.open(path, { readOnly: true, blocking: true });
      const opening = from ? { format: from, codecs: nodeCodecs } : { codecs: nodeCodecs };
      const device: ImageDevice = await openImage(file, opening).catch(async (error) => {
        await file.close();
        return asExit(error);
      });
      if (device.format === "raw") {
        return { image: rawFileImage(path, rawOptions), close: () => device.close() };
      }
      if (intoFile && device.format !== "vmdk-stream") {
        // What the container stores as is goes file to file in the kernel (a
        // stream's grains are all compressed: it streams). Zeros are looked
        // for in 4 KiB units at least (raw and fixed VHD have none), as qemu-img does.
        const options = { ...rawOptions, zeroUnit: rawOptions.zeroUnit || 4096 };
        const image = await containerFileImage(device, path, options).catch(async (error) => {
          await device.close();
          return asExit(error);
        });
        return { image, close: () => device.close() };
      }
      const dataRuns = await device.dataRuns().catch(async (error) => {
        await device.close();
        return asExit(error);
      });
      return {
        image: { size: device.size, data: device.chunks(), dataRuns },
        close: () => device.close(),
      };
    }
  }
  checkBinaryInput(io, source);
  if (size === undefined) {
    throw new UsageError(
      path !== undefined
        ? `${path} is not a regular file (a device?): give its size with --size SIZE`
        : "the input is a pipe: give its size with --size SIZE (or name the file, or redirect it: < FILE)",
    );
  }
  const data =
    path !== undefined
      ? readFile(path, { reuseBuffer: true })
      : io.stdinFd !== undefined
        ? readFd(io.stdinFd, { reuseBuffer: true })
        : (io.stdin as AsyncIterable<Uint8Array>);
  return { image: { size, data }, close: () => Promise.resolve() };
}

function humanSize(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${Number(value.toFixed(2))} ${units[unit]}`;
}

/**
 * With SOURCE_DATE_EPOCH set, the VHD timestamp comes from it and the ids
 * (VHD uuid, VMDK CID) from a hash of it: the same input gives the same bytes.
 */
function reproducible(io: CliIo, format: ImageFormat): WriteImageOptions {
  const epoch = io.env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || !/^\d+$/.test(epoch)) return {};
  // node:crypto only here: loading it costs every start ~5 ms.
  const { createHash } = nodeRequire("node:crypto") as typeof import("node:crypto");
  const hash = createHash("sha256").update(`vdisk ${format} ${epoch}`).digest();
  return {
    timestamp: new Date(Number(epoch) * 1000),
    uuid: new Uint8Array(hash.subarray(0, 16)),
    cid: hash.readUInt32LE(16),
  };
}

interface ConvertOptions {
  to: ImageFormat;
  output?: string;
  clusterSize?: number;
  /** -c */
  c?: boolean;
  /** --compress [type]: true when given without a type. */
  compress?: boolean | "zlib" | "zstd";
  size?: number;
  from?: ImageFormat;
}

/** The `vdisk` command line. */
export function main(args: string[], io: CliIo): Promise<number> {
  const program = createProgram("vdisk", version, io);
  program
    .description(
      "Disk image container formats: convert a raw image to qcow2, VHD or VMDK (and back), sparse, without qemu-img; describe an image.",
    )
    .addHelpText(
      "after",
      `
Examples:
  vdisk convert --to qcow2 big.img big.qcow2        raw to qcow2 (zeros stay unallocated)
  vdisk convert --to qcow2 -c big.img -o big.qcow2  compressed clusters (zlib)
  vdisk convert --to qcow2 --compress zstd -o big.qcow2 big.img   zstd clusters (Node >= 22.15)
  vdisk convert --to vhd-fixed < big.img > big.vhd  Azure: fixed VHD, size rounded up to 1 MiB
  vdisk convert --to vmdk-stream big.img | ssh host 'cat > big.vmdk'
  vdisk convert --to raw big.qcow2 big.img          any supported format back to raw
  vdisk info big.qcow2 --json                       format, virtual size, allocation`,
    );

  program
    .command("convert")
    .description("convert a raw image (or any supported format) to --to FORMAT")
    .argument("[IN]", "the image to read (default: standard input)")
    .argument("[OUT]", "the image to write, atomically (default: standard output)")
    .addOption(
      new Option("--to <format>", "the output format").choices(FORMATS).makeOptionMandatory(),
    )
    .option("-o, --output <file>", "the image to write, atomically")
    .addOption(
      new Option("--from <format>", "read IN as this format (default: detected)").choices(FORMATS),
    )
    .option("--cluster-size <size>", "qcow2 cluster size (512 to 2M)", clusterSizeOption)
    .option(
      "-c",
      "compress qcow2 clusters with zlib (as --compress zlib): the system's libz, as qemu-img, where vdisk's addon is built",
    )
    .addOption(
      new Option(
        "--compress [type]",
        "compress qcow2 clusters: zlib (the default) or zstd (Node >= 22.15)",
      ).choices(["zlib", "zstd"]),
    )
    .option("--size <size>", "size of a piped input image (bytes, 4G, 8080632s)", sizeOption)
    .action(
      async (input: string | undefined, output: string | undefined, options: ConvertOptions) => {
        if (output !== undefined && options.output !== undefined) {
          throw new UsageError("give the output once: as OUT or as -o FILE");
        }
        const target = output ?? options.output;
        const toFile = target !== undefined && target !== "-";
        if (!toFile) checkBinaryOutput(io, target);
        const { to } = options;
        const compression =
          options.compress === true || (options.c && options.compress === undefined)
            ? "zlib"
            : options.compress || undefined;
        if (compression === "zstd" && !hasZstd()) {
          throw new UsageError(`--compress zstd: ${zstdMissing()}; use -c (zlib)`);
        }
        const writeOptions: WriteImageOptions = {
          ...reproducible(io, to),
          codecs: nodeCodecs,
          ...(options.clusterSize !== undefined ? { clusterSize: options.clusterSize } : {}),
          ...(compression ? { compress: compression } : {}),
          ...(toFile ? { extentName: basename(target as string) } : {}),
        };
        let sink: ImageSink | undefined;
        if (!toFile)
          sink = io.stdoutFd !== undefined ? new FdSink(io.stdoutFd) : new StreamSink(io);
        // Table-first formats stream only when the input's data runs are known (a sparse file).
        const mayNeedSeek = (runs: boolean) =>
          sink !== undefined &&
          !sink.seekable &&
          SEEKABLE_FORMATS.includes(to) &&
          (!runs || (to === "qcow2" && compression !== undefined));
        const refuse = () =>
          new UsageError(
            `${to} needs a seekable output here (its tables come after the data${to === "qcow2" && compression ? " and compressed clusters" : ", and where the input's data is is not known up front"}): give -o FILE (or redirect to a file: > FILE)`,
          );
        // A pipe on stdin never has runs: refuse before reading it.
        if (mayNeedSeek(false) && input === undefined && stdinFile(io) === undefined)
          throw refuse();
        let copyProgress: Progress | undefined;
        const { image: source, close } = await openSource(
          io,
          input,
          options.size,
          options.from,
          {
            onCopyProgress: (done) => copyProgress?.update(done),
            // Zeros are looked for in the units the output allocates.
            zeroUnit: allocationUnit(to, writeOptions),
          },
          // Into a file (-o, or > FILE): a container's stored data can be copied file to file.
          sink === undefined || (sink instanceof FdSink && sink.seekable),
        );
        const label = `converting to ${to}`;
        const image = { ...source, data: withProgress(io, label, source.size, source.data) };
        // Data copied into the output file in the kernel (a raw file's, a container's) reads no `data`: its own progress.
        copyProgress = createProgress(io, label, source.size);
        if (mayNeedSeek(image.dataRuns !== undefined)) {
          await close();
          throw refuse();
        }
        try {
          if (sink) await writeImage(image, to, sink, writeOptions).catch(asExit);
          else
            await writeImageFile(target as string, (fileSink) =>
              writeImage(image, to, fileSink, writeOptions),
            ).catch(asExit);
        } finally {
          copyProgress.finish();
          await close();
        }
      },
    );

  program
    .command("info")
    .description("describe an image: format, virtual size, allocation (like qemu-img info)")
    .argument("<IMAGE>", "the image file")
    .option("--json", "print JSON")
    .action(async (path: string, options: { json?: boolean }) => {
      const file = await FileDevice.open(path, { readOnly: true });
      try {
        const device = await openImage(file, { codecs: nodeCodecs }).catch(asExit);
        const info = await device.info().catch(asExit);
        const stat = statSync(path);
        const diskSize = stat.blocks * 512;
        if (options.json) {
          io.stdout.write(jsonText({ filename: path, ...info, diskSize }));
          return;
        }
        const lines = [
          `image: ${path}`,
          `file format: ${info.format}`,
          `virtual size: ${humanSize(info.virtualSize)} (${info.virtualSize} bytes)`,
          `disk size: ${humanSize(diskSize)}`,
          `file size: ${humanSize(info.fileSize)} (${info.fileSize} bytes)`,
        ];
        if (info.format !== "raw") {
          lines.push(`cluster size: ${info.clusterSize}`);
          lines.push(`allocated: ${humanSize(info.allocatedBytes)} (${info.allocatedBytes} bytes)`);
          lines.push(`compressed: ${info.compressed ? "yes" : "no"}`);
        }
        for (const [key, value] of Object.entries(info.details)) lines.push(`${key}: ${value}`);
        io.stdout.write(`${lines.join("\n")}\n`);
      } finally {
        await file.close();
      }
    });

  return runProgram(program, args, io);
}
