import { PassThrough } from "node:stream";
import type { CliIo } from "./cli_io.ts";

/** A {@linkcode CliIo} over memory, with what was written, for tests. */
export interface MemoryIo extends CliIo {
  stdoutBytes(): Uint8Array;
  stdoutText(): string;
  stderrText(): string;
}

/** Options for {@linkcode memoryIo}. */
export interface MemoryIoOptions {
  stdin?: Uint8Array | string;
  stdinIsTTY?: boolean;
  stdoutIsTTY?: boolean;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Builds an in-memory {@linkcode CliIo}: stdin from bytes, stdout/stderr captured. */
export function memoryIo(options: MemoryIoOptions = {}): MemoryIo {
  const stdin = new PassThrough();
  stdin.end(
    typeof options.stdin === "string"
      ? Buffer.from(options.stdin)
      : (options.stdin ?? new Uint8Array(0)),
  );
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (c: Buffer) => out.push(c));
  stderr.on("data", (c: Buffer) => err.push(c));
  return {
    stdin,
    stdout,
    stderr,
    stdinIsTTY: options.stdinIsTTY ?? false,
    stdoutIsTTY: options.stdoutIsTTY ?? false,
    stderrIsTTY: false,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    stdoutBytes: () => new Uint8Array(Buffer.concat(out)),
    stdoutText: () => Buffer.concat(out).toString("utf8"),
    stderrText: () => Buffer.concat(err).toString("utf8"),
  };
}
