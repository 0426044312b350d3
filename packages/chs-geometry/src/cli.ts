import { fstatSync } from "node:fs";
import { createRequire } from "node:module";
import { parseSize } from "@bigfile/blockdev";
import { openInput } from "@bigfile/blockdev/stdio";
import { ExitError, jsonText, UsageError } from "@bigfile/cli-kit";
import { type CliIo, createProgram, integerOption, runProgram } from "@bigfile/cli-kit/node";
import type { Command } from "commander";
import { fdiskBlocks } from "./blocks.ts";
import { chsToLba, formatChs, lbaToChs, parseChs } from "./chs.ts";
import { type Geometry, geometryOf, normalizeGeometry } from "./geometry.ts";
import { lbaToMbrChs, lbaToMbrChsBytes, unpackChs } from "./mbr_chs.ts";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

interface GlobalOptions {
  heads?: number;
  sectors?: number;
  sectorSize?: number;
  json?: boolean;
}

/** The `chs-geometry` command line. */
export function main(args: string[], io: CliIo): Promise<number> {
  const program = createProgram("chs-geometry", version, io);
  program
    .description(
      "Cylinder/head/sector geometry as fdisk computes it: the geometry of a disk size, and LBA <-> CHS.",
    )
    .argument(
      "[size]",
      "disk size: bytes, 4G, 4GiB, 8089600s (default: the length of standard input)",
    )
    .option("--heads <n>", "heads per cylinder", integerOption)
    .option("--sectors <n>", "sectors per track", integerOption)
    .option("--sector-size <n>", "bytes per sector", integerOption)
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      `
Defaults are fdisk's for a disk without a geometry: 255 heads, 63 sectors/track, 512-byte sectors.

Examples:
  chs-geometry 4141875200              503 cylinders of 8225280 bytes, 4559360 bytes lost
  chs-geometry < big.img               the geometry of an image file (its length)
  chs-geometry --json 4G               machine-readable
  chs-geometry lba2chs 63 8080694      0/1/1 and 502/254/63
  chs-geometry chs2lba 0/1/1           63
  seq 0 63 100 | chs-geometry lba2chs  one answer a line`,
    )
    .action(async (size: string | undefined, opts: GlobalOptions) => {
      const geometry = geometryFrom(opts);
      const bytes =
        size === undefined ? await stdinLength(io) : parseSizeArg(size, geometry.sectorSize);
      const g = geometryOf(bytes, geometry);
      if (opts.json) {
        io.stdout.write(jsonText(g));
        return;
      }
      io.stdout.write(
        `Disk: ${g.bytes} bytes, ${g.totalSectors} sectors of ${g.sectorSize} bytes\n` +
          `${g.heads} heads, ${g.sectorsPerTrack} sectors/track, ${g.cylinders} cylinders\n` +
          `Units = cylinders of ${g.cylinderSectors} * ${g.sectorSize} = ${g.cylinderBytes} bytes\n` +
          `Usable: ${g.usableBytes} bytes in ${g.cylinders} whole cylinders\n` +
          `Lost: ${g.lostBytes} bytes in the partial last cylinder\n` +
          `First track: ${g.trackBytes} bytes (${g.sectorsPerTrack} sectors) kept for the partition table\n` +
          wholeDiskPartition(g),
      );
    });

  program
    .command("lba2chs")
    .description("convert logical block addresses to C/H/S (and the 3 MBR bytes with --json)")
    .argument("[lba...]", "block addresses (default: one a line on standard input)")
    .action(async (values: string[], _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const geometry = geometryFrom(opts);
      const convert = (text: string) => {
        const lba = parseLba(text);
        const chs = lbaToChs(lba, geometry);
        if (!opts.json) return formatChs(chs);
        const bytes = lbaToMbrChsBytes(lba, geometry);
        return JSON.stringify({
          lba,
          ...chs,
          mbr: { ...lbaToMbrChs(lba, geometry), bytes: hex(bytes) },
        });
      };
      await eachValue(io, values, convert, "block addresses");
    });

  program
    .command("chs2lba")
    .description(
      "convert C/H/S addresses (or 3 MBR bytes as hex, like 'fe ff ff') to logical block addresses",
    )
    .argument("[chs...]", "addresses as C/H/S (default: one a line on standard input)")
    .action(async (values: string[], _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const geometry = geometryFrom(opts);
      const convert = (text: string) => {
        const chs = parseChsOrBytes(text);
        const lba = chsToLba(chs, geometry);
        return opts.json ? JSON.stringify({ ...chs, lba }) : String(lba);
      };
      await eachValue(io, values, convert, "C/H/S addresses");
    });

  return runProgram(program, args, io);
}

function geometryFrom(opts: GlobalOptions): Geometry {
  try {
    return normalizeGeometry({
      ...(opts.heads !== undefined && { heads: opts.heads }),
      ...(opts.sectors !== undefined && { sectorsPerTrack: opts.sectors }),
      ...(opts.sectorSize !== undefined && { sectorSize: opts.sectorSize }),
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parseSizeArg(text: string, sectorSize: number): number {
  try {
    return parseSize(text, { sectorSize });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parseLba(text: string): number {
  if (!/^\d+$/.test(text.trim()))
    throw new ExitError(`'${text}' is not a block address (a non-negative integer)`);
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n)) throw new ExitError(`'${text}' is too large a block address`);
  return n;
}

function parseChsOrBytes(text: string): ReturnType<typeof parseChs> {
  const bytes = /^\s*([0-9a-f]{2})\s+([0-9a-f]{2})\s+([0-9a-f]{2})\s*$/i.exec(text);
  if (bytes) {
    return unpackChs(new Uint8Array(bytes.slice(1, 4).map((b) => Number.parseInt(b, 16))));
  }
  try {
    return parseChs(text);
  } catch (error) {
    throw new ExitError((error as Error).message);
  }
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** The length of standard input: the size of the file behind it, or the bytes that flow. */
async function stdinLength(io: CliIo): Promise<number> {
  if (io.stdinIsTTY) {
    throw new UsageError("standard input is a terminal; give a SIZE or pipe an image in (< FILE)");
  }
  if (io.stdinFd !== undefined) {
    const st = fstatSync(io.stdinFd);
    if (st.isFile()) return st.size;
  }
  let bytes = 0;
  for await (const chunk of openInput(io, "-")) bytes += chunk.length;
  return bytes;
}

/** Runs `convert` on each argument, or on each non-empty line of standard input. */
async function eachValue(
  io: CliIo,
  values: string[],
  convert: (text: string) => string,
  what: string,
): Promise<void> {
  if (values.length > 0) {
    io.stdout.write(`${values.map(convert).join("\n")}\n`);
    return;
  }
  if (io.stdinIsTTY)
    throw new UsageError(`standard input is a terminal; give ${what} as arguments or pipe them in`);
  const decoder = new TextDecoder();
  let pending = "";
  const flush = (text: string) => {
    const out: string[] = [];
    for (const line of text.split("\n")) if (line.trim() !== "") out.push(convert(line.trim()));
    if (out.length > 0) io.stdout.write(`${out.join("\n")}\n`);
  };
  for await (const chunk of openInput(io, "-", { what })) {
    pending += decoder.decode(chunk, { stream: true });
    const cut = pending.lastIndexOf("\n");
    if (cut >= 0) {
      flush(pending.slice(0, cut));
      pending = pending.slice(cut + 1);
    }
  }
  flush(pending + decoder.decode());
}

/** The line about the one cylinder-aligned partition that fills the disk, as fdisk would make it. */
function wholeDiskPartition(g: ReturnType<typeof geometryOf>): string {
  const end = g.cylinders * g.cylinderSectors - 1;
  const start = g.sectorsPerTrack;
  if (end < start) return "No room for a cylinder-aligned partition\n";
  const sectors = end - start + 1;
  return (
    `Whole-disk partition (cylinders 1-${g.cylinders}): sectors ${start}..${end}, ${sectors} sectors, ` +
    `${sectors * g.sectorSize} bytes, ${fdiskBlocks(sectors, g.sectorSize).text} blocks of 1 KiB\n`
  );
}
