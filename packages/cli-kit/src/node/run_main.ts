import type { CliIo } from "./cli_io.ts";
import { processIo } from "./cli_io.ts";

/** The shape of every package's CLI entry. */
export type Main = (args: string[], io: CliIo) => Promise<number>;

/**
 * The body of a `bin/` shim: runs `main` on the process's arguments and
 * standard streams, then exits with its code as soon as what it wrote to
 * them is written. `main` has done its work when it resolves; exiting then,
 * rather than when Node's event loop runs dry, skips Node's teardown of its
 * heap and threads (3-13 ms measured, the more the more memory a command
 * used). Node ignores SIGPIPE, so a reader that goes away (`| head -c1`)
 * surfaces as EPIPE: end quietly, as `cat` would.
 */
export function runMain(main: Main): void {
  const io = processIo();
  // The streams main used: created on first use (see processIo), and waited for.
  const used: NodeJS.WriteStream[] = [];
  const lazy = (name: "stdout" | "stderr", create: () => NodeJS.WriteStream) => {
    let stream: NodeJS.WriteStream | undefined;
    Object.defineProperty(io, name, {
      get() {
        if (!stream) {
          stream = create();
          used.push(stream);
        }
        return stream;
      },
    });
  };
  lazy("stdout", () =>
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    }),
  );
  lazy("stderr", () => process.stderr);
  main(process.argv.slice(2), io).then(
    (code) => exitWhenWritten(code, used),
    (error: unknown) => {
      io.stderr.write(`${String((error as Error)?.message ?? error)}\n`);
      exitWhenWritten(1, used);
    },
  );
}

/**
 * Exits with `code` once every stream's queued writes are out (a pipe whose
 * reader is slow may hold some; files and terminals are written at once).
 */
function exitWhenWritten(code: number, streams: readonly NodeJS.WriteStream[]): void {
  process.exitCode = code;
  const pending = streams.filter((s) => !s.destroyed && s.writableLength > 0);
  let left = pending.length;
  if (left === 0) process.exit(code);
  for (const stream of pending) {
    let counted = false;
    const done = () => {
      if (counted) return;
      counted = true;
      left -= 1;
      if (left === 0) process.exit(code);
    };
    stream.once("error", done);
    if (stream.writableEnded) stream.once("finish", done);
    else stream.write("", done);
  }
}
