import { createRequire } from "node:module";
import { type CliIo, createProgram, runProgram } from "@bigfile/cli-kit/node";
import { addMkfsCommand } from "./write/mkfs_command.ts";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/** The `ext3fs` command line: `mkfs` writes filesystems, the rest read them. */
export async function main(args: string[], io: CliIo): Promise<number> {
  const program = createProgram("ext3fs", version, io);
  program.description(
    "Make and read ext2/ext3 filesystems as files and streams, without root or loop devices.",
  );
  addMkfsCommand(program, io);
  // `ext3fs mkfs` does not load the reader (faster start).
  if (args[0] !== "mkfs") {
    const { addReadCommands } = await import("./read/read_commands.ts");
    addReadCommands(program, io);
  }
  return runProgram(program, args, io);
}
