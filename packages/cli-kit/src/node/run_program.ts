import { Command, CommanderError } from "commander";
import { describeError } from "../describe_error.ts";
import { ExitError } from "../exit_error.ts";
import type { CliIo } from "./cli_io.ts";

/**
 * A commander program wired to `io`: help and version to stdout, no
 * `process.exit`, errors left to {@linkcode runProgram}.
 */
export function createProgram(name: string, version: string, io: CliIo): Command {
  const program = new Command(name);
  program
    .version(version, "-V, --version", "print the version and exit")
    .helpOption("-h, --help", "show this help and exit")
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => {},
      getOutHelpWidth: () => 100,
      getErrHelpWidth: () => 100,
    });
  return program;
}

/** Whether a thrown value is a write to a closed pipe (`tool | head -c1`). */
export function isBrokenPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "EPIPE";
}

/**
 * Runs `program` on `args` and maps every outcome to an exit code: 0 success,
 * 1 failure, 2 usage error. Failures print one line `name: message` on stderr;
 * the stack only with `BIGFILE_DEBUG=1`. A closed stdout ends quietly.
 */
export async function runProgram(
  program: Command,
  args: readonly string[],
  io: CliIo,
): Promise<number> {
  const name = program.name();
  try {
    await program.parseAsync([...args], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return 0;
      if (error.code === "commander.help") return 2;
      const message = error.message.replace(/^error: /, "");
      io.stderr.write(`${name}: ${message} (see '${name} --help')\n`);
      return 2;
    }
    if (isBrokenPipe(error)) return 0;
    const code = error instanceof ExitError ? error.exitCode : 1;
    io.stderr.write(`${name}: ${describeError(error)}\n`);
    if (io.env.BIGFILE_DEBUG === "1" && error instanceof Error && error.stack) {
      io.stderr.write(`${error.stack}\n`);
    }
    return code;
  }
}
