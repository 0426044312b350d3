import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { ExitError, jsonText } from "@bigfile/cli-kit";
import { type CliIo, createProgram, runProgram } from "@bigfile/cli-kit/node";
import { FileDevice } from "./file_device.ts";
import { writeToFd } from "./file_sink.ts";
import { readFd, readFile } from "./file_source.ts";
import { formatSize } from "./size.ts";
import {
  checkBinaryInput,
  checkBinaryOutput,
  openInput,
  sizeOption,
  writeOutput,
} from "./stdio/mod.ts";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/** The `blockdev` command line. */
export function main(args: string[], io: CliIo): Promise<number> {
  const program = createProgram("blockdev", version, io);
  program
    .description(
      "A loop device without root: create, inspect, read, patch and copy disk images as files.",
    )
    .addHelpText(
      "after",
      `
Sizes and offsets take bytes (4141875200), binary suffixes (4G, 4GiB, 512M) or sectors (8080632s).

Examples:
  blockdev create 4141875200 big.img          a sparse 4 GB image that costs no disk space
  blockdev info big.img                       size, sectors, allocated bytes
  blockdev read big.img --offset 32256 --length 1024 | xxd | head
  blockdev write big.img --offset 0 < mbr.bin patch sector 0 in place
  blockdev copy --sparse big.img copy.img     cat that writes holes for zero blocks`,
    );

  program
    .command("create")
    .description("create a sparse file of SIZE bytes (only metadata is written)")
    .argument("<size>", "size of the new file", sizeOption)
    .argument("<file>", "path of the new file")
    .option("-f, --force", "replace FILE if it exists")
    .action(async (size: number, file: string, opts: { force?: boolean }) => {
      if (!opts.force && (await exists(file))) {
        throw new ExitError(`'${file}' already exists; remove it or use --force to replace it`);
      }
      const temp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
      const fd = openSync(temp, "wx", 0o644);
      try {
        ftruncateSync(fd, size);
        closeSync(fd);
        await rename(temp, file);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    });

  program
    .command("info")
    .description("show a file's size, sectors and allocated bytes")
    .argument("<file>", "image file or block device")
    .option("--json", "print JSON")
    .action(async (file: string, opts: { json?: boolean }) => {
      const st = await stat(file);
      const dev = await FileDevice.open(file, { readOnly: true });
      let bootSignature = false;
      try {
        if (dev.size >= 512) {
          const sector0 = await dev.read(510, 2);
          bootSignature = sector0[0] === 0x55 && sector0[1] === 0xaa;
        }
      } finally {
        await dev.close();
      }
      const info = {
        path: file,
        bytes: dev.size,
        sectors: Math.floor(dev.size / 512),
        sectorSize: 512,
        partialSectorBytes: dev.size % 512,
        allocatedBytes: st.blocks * 512,
        sparse: st.blocks * 512 < dev.size,
        bootSignature,
      };
      if (opts.json) {
        io.stdout.write(jsonText(info));
        return;
      }
      io.stdout.write(
        `${file}: ${info.bytes} bytes (${formatSize(info.bytes)}), ${info.sectors} sectors of 512 bytes${info.partialSectorBytes ? ` + ${info.partialSectorBytes} bytes` : ""}\n` +
          `allocated on disk: ${info.allocatedBytes} bytes (${formatSize(info.allocatedBytes)})${info.sparse ? ", sparse" : ""}\n` +
          `sector 0: ${bootSignature ? "boot signature 0x55AA (see 'mbr print' for the partitions, 'chs-geometry' for the geometry)" : "no boot signature"}\n`,
      );
    });

  program
    .command("read")
    .description("write LENGTH bytes of FILE from OFFSET to standard output")
    .argument("<file>", "image file")
    .requiredOption("--offset <n>", "first byte", sizeOption)
    .option("--length <n>", "how many bytes (default: to the end)", sizeOption)
    .action(async (file: string, opts: { offset: number; length?: number }) => {
      checkBinaryOutput(io);
      const dev = await FileDevice.open(file, { readOnly: true });
      await dev.close();
      const length = opts.length ?? Math.max(dev.size - opts.offset, 0);
      if (opts.offset + length > dev.size) {
        throw new ExitError(
          `cannot read ${length} bytes at offset ${opts.offset}: '${file}' holds ${dev.size} bytes (${Math.max(dev.size - opts.offset, 0)} from that offset)`,
        );
      }
      await writeOutput(io, readFile(file, { offset: opts.offset, length, reuseBuffer: true }));
    });

  program
    .command("write")
    .description("write standard input into FILE at OFFSET, in place; other bytes stay as they are")
    .argument("<file>", "existing image file")
    .requiredOption("--offset <n>", "where the first input byte goes", sizeOption)
    .option("--allow-grow", "let the input extend FILE past its end")
    .action(async (file: string, opts: { offset: number; allowGrow?: boolean }) => {
      checkBinaryInput(io, undefined, "the bytes to write");
      const st = await stat(file);
      if (!st.isFile() && !st.isBlockDevice())
        throw new ExitError(`'${file}' is not a regular file or block device`);
      if (opts.offset > st.size && !opts.allowGrow) {
        throw new ExitError(
          `offset ${opts.offset} is past the end of '${file}' (${st.size} bytes); use --allow-grow to extend it`,
        );
      }
      await writeInPlace(io, file, st.size, opts.offset, Boolean(opts.allowGrow));
    });

  program
    .command("copy")
    .description("copy IN to OUT like cat; with --sparse, zero blocks become holes")
    .argument("[in]", "input file, or - for standard input", "-")
    .argument("[out]", "output file (replaced atomically), or - for standard output", "-")
    .option("--sparse", "skip zero blocks by seeking when OUT is a regular file")
    .action(async (input: string, output: string, opts: { sparse?: boolean }) => {
      checkBinaryOutput(io, output);
      // A named file copied sparsely: the kernel says where its holes are, and they are not read.
      const source =
        opts.sparse && input !== "-"
          ? readFile(input, { reuseBuffer: true, seekData: true })
          : openInput(io, input, { reuseBuffer: true });
      await writeOutput(io, source, output, { sparse: Boolean(opts.sparse) });
    });

  return runProgram(program, args, io);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies standard input into `file` at `offset`. The length must be known to
 * fit before the first byte lands: a regular file on stdin tells it; a pipe is
 * spooled to a temporary file first, so a too-long input changes nothing.
 */
async function writeInPlace(
  io: CliIo,
  file: string,
  size: number,
  offset: number,
  allowGrow: boolean,
): Promise<void> {
  const room = size - offset;
  let source: AsyncIterable<Uint8Array>;
  let length: number | undefined;
  let spool: string | undefined;
  const stdinStat = io.stdinFd !== undefined ? fstatSync(io.stdinFd) : undefined;
  if (stdinStat?.isFile() && io.stdinFd !== undefined) {
    length = stdinStat.size;
    source = readFd(io.stdinFd);
  } else {
    spool = join(dirname(file), `.${basename(file)}.${process.pid}.spool`);
    const input =
      io.stdinFd !== undefined ? readFd(io.stdinFd) : (io.stdin as AsyncIterable<Uint8Array>);
    const fd = openSync(spool, "wx", 0o600);
    try {
      length = (await writeToFd(input, fd, { positional: true })).bytes;
    } finally {
      closeSync(fd);
    }
    source = readFile(spool);
  }
  try {
    if (length > room && !allowGrow) {
      throw new ExitError(
        `input is ${length} bytes but '${file}' has ${room} bytes from offset ${offset}; nothing was written (use --allow-grow to extend it)`,
      );
    }
    const fd = openSync(file, "r+");
    try {
      let position = offset;
      for await (const chunk of source) {
        let done = 0;
        while (done < chunk.length)
          done += writeSync(fd, chunk, done, chunk.length - done, position + done);
        position += chunk.length;
      }
    } finally {
      closeSync(fd);
    }
  } finally {
    if (spool) await rm(spool, { force: true });
  }
}
