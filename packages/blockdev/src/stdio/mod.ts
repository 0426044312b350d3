/**
 * Binary data on a command line's standard streams, for Node: refuse binary
 * output to a terminal and image input from one, read an image from a file or
 * standard input at descriptor speed, write to a file atomically or to
 * standard output with holes when it is a regular file, parse sizes in
 * options, and show progress in bytes. Builds on `@bigfile/cli-kit`'s
 * `CliIo` and `UsageError` (exit 2).
 *
 * @example A filter: an image in, the same bytes out
 * ```ts
 * import { type CliIo, createProgram, runProgram } from "@bigfile/cli-kit/node";
 * import { openInput, writeOutput } from "@bigfile/blockdev/stdio";
 * export function main(args: string[], io: CliIo): Promise<number> {
 *   const program = createProgram("copy", "1.0.0", io);
 *   program.argument("[IN]").argument("[OUT]").action(async (input?: string, output?: string) => {
 *     await writeOutput(io, openInput(io, input), output);
 *   });
 *   return runProgram(program, args, io);
 * }
 * ```
 *
 * @module
 */

export * from "./binary_io.ts";
export * from "./progress.ts";
export * from "./size_option.ts";
