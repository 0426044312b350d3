import type { CliIo } from "@bigfile/blockdev/cli-kit";
import type { Command } from "commander";

/** Adds `ext3fs mkfs` to the program. */
export function addMkfsCommand(_program: Command, _io: CliIo): void {}
