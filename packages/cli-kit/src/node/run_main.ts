import type { CliIo } from "./cli_io.ts";
import { processIo } from "./cli_io.ts";

/** The shape of every package's CLI entry. */
export type Main = (args: string[], io: CliIo) => Promise<number>;

/**
 * The body of a `bin/` shim: runs `main` on the process's arguments and
 * standard streams and sets the exit code. Node ignores SIGPIPE, so a reader
 * that goes away (`| head -c1`) surfaces as EPIPE: end quietly, as `cat` would.
 */
export function runMain(main: Main): void {
  const io = processIo();
  let stdout: NodeJS.WriteStream | undefined;
  Object.defineProperty(io, "stdout", {
    get() {
      if (!stdout) {
        stdout = process.stdout;
        stdout.on("error", (error: NodeJS.ErrnoException) => {
          if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
          throw error;
        });
      }
      return stdout;
    },
  });
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${String((error as Error)?.message ?? error)}\n`);
      process.exitCode = 1;
    },
  );
}
