import type { Readable, Writable } from "node:stream";

/**
 * Everything a CLI touches of its process, injectable so tests call
 * `main(args, io)` directly. `stdinFd`/`stdoutFd` are set for the real process:
 * binary data then moves with blocking descriptor I/O (fast on pipes, holes in
 * regular files); without them the Node streams are used.
 */
export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  stdinFd?: number;
  stdoutFd?: number;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
}

/** The real process's standard streams. */
export function processIo(): CliIo {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinFd: 0,
    stdoutFd: 1,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}
