import { fstatSync } from "node:fs";
import { createRequire } from "node:module";
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
    stdinIsTTY: isTerminal(0),
    stdoutIsTTY: isTerminal(1),
    stderrIsTTY: isTerminal(2),
    env: process.env,
    cwd: process.cwd(),
  };
}

/**
 * Whether `fd` is a terminal. A terminal is a character device, so a pipe or
 * a file (what a filter usually has) is told from one fstat, and so is
 * /dev/null (Linux's memory devices, major 1: what a job without input gets).
 * Only another character device is asked of `node:tty`, which loads
 * `node:net` and Node's streams (~8 ms at every start of a command that never
 * uses them).
 */
function isTerminal(fd: number): boolean {
  let rdev: number;
  try {
    const stat = fstatSync(fd);
    if (!stat.isCharacterDevice()) return false;
    rdev = stat.rdev;
  } catch {
    return false; // closed: not a terminal
  }
  if (process.platform === "linux" && linuxMajor(rdev) === 1) return false;
  const { isatty } = createRequire(import.meta.url)("node:tty") as typeof import("node:tty");
  return isatty(fd);
}

/** The major number of a Linux device number (glibc's gnu_dev_major). */
function linuxMajor(rdev: number): number {
  return ((rdev / 2 ** 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}
