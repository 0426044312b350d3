import type { Readable, Writable } from "node:stream";
import { isatty } from "node:tty";

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
  /** The command is the whole process ({@linkcode processIo}): it may tune process-wide settings such as V8 flags. */
  ownsProcess?: boolean;
}

/**
 * The real process's standard streams. `process.stdin`/`process.stdout` are
 * created only when a command uses them: creating them switches a pipe to
 * non-blocking mode, which would make the descriptor I/O of binary filters
 * spin on EAGAIN.
 */
export function processIo(): CliIo {
  return {
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    ownsProcess: true,
    stdinFd: 0,
    stdoutFd: 1,
    stdinIsTTY: isatty(0),
    stdoutIsTTY: isatty(1),
    stderrIsTTY: isatty(2),
    env: process.env,
    cwd: process.cwd(),
  };
}
