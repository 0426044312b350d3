import type { CliIo } from "@bigfile/blockdev/cli-kit";
import type { Command } from "commander";

/** Adds `ext3fs info|ls|cat|stat|extract|check` to the program. */
export function addReadCommands(_program: Command, _io: CliIo): void {}
