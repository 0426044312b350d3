/**
 * The Node-specific CLI runtime every bigfile tool shares: `main(args, io)` with injectable
 * standard streams ({@linkcode CliIo}, {@linkcode memoryIo} for tests),
 * commander wired for exit codes 0/1/2 and one-line errors
 * ({@linkcode createProgram}, {@linkcode runProgram}), the `bin/` shim with a
 * quiet EPIPE ({@linkcode runMain}), and option parsers. It knows nothing of
 * disks: binary data on standard streams is `@bigfile/blockdev/stdio`.
 *
 * @example A tool
 * ```ts
 * import { type CliIo, createProgram, runProgram } from "@bigfile/cli-kit/node";
 * export function main(args: string[], io: CliIo): Promise<number> {
 *   const program = createProgram("tool", "1.0.0", io);
 *   program.command("hello").action(() => {
 *     io.stdout.write("hi\n");
 *   });
 *   return runProgram(program, args, io);
 * }
 * ```
 *
 * @module
 */
export * from "./node/cli_io.ts";
export * from "./node/integer_option.ts";
export * from "./node/memory_io.ts";
export * from "./node/parse_option_value.ts";
export * from "./node/run_main.ts";
export * from "./node/run_program.ts";
