/**
 * The CLI runtime every bigfile tool shares: `main(args, io)` with injectable
 * stdio, commander wired for exit codes 0/1/2 and one-line errors, quiet EPIPE,
 * binary input/output guards against terminals, sparse stdout, progress.
 *
 * @example A tool
 * ```ts
 * import { createProgram, runProgram, type CliIo } from "@bigfile/blockdev/cli-kit";
 * export function main(args: string[], io: CliIo): Promise<number> {
 *   const program = createProgram("tool", "1.0.0", io);
 *   program.command("hello").action(() => { io.stdout.write("hi\n"); });
 *   return runProgram(program, args, io);
 * }
 * ```
 *
 * @module
 */

export * from "./binary_io.ts";
export * from "./cli_io.ts";
export * from "./describe_error.ts";
export * from "./exit_error.ts";
export * from "./memory_io.ts";
export * from "./options.ts";
export * from "./progress.ts";
export * from "./run_main.ts";
export * from "./run_program.ts";
