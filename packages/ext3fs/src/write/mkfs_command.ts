import type { Command } from "commander";
import type { CliIo } from "@bigfile/blockdev/cli-kit";

/** Adds `ext3fs mkfs` to the program. */
export function addMkfsCommand(_program: Command, _io: CliIo): void {}
