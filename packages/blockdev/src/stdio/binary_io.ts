import type { Writable } from "node:stream";
import { UsageError } from "@bigfile/cli-kit";
import type { CliIo } from "@bigfile/cli-kit/node";
import { type SinkOptions, type SinkResult, writeToFd, writeToFile } from "../file_sink.ts";
import { readFd, readFile } from "../file_source.ts";

/**
 * Throws a {@linkcode UsageError} when binary output would go to a terminal
 * ("binary output can mess up your terminal"). Call it before any work.
 */
export function checkBinaryOutput(io: CliIo, target?: string): void {
  if ((target === undefined || target === "-") && io.stdoutIsTTY) {
    throw new UsageError(
      "refusing to write binary data to a terminal; redirect standard output (> FILE, | ...) or give -o FILE",
    );
  }
}

/**
 * Throws a {@linkcode UsageError} when input must come from standard input but
 * that is a terminal (nothing would ever arrive).
 */
export function checkBinaryInput(io: CliIo, source?: string, what = "an image"): void {
  if ((source === undefined || source === "-") && io.stdinIsTTY) {
    throw new UsageError(
      `standard input is a terminal; pipe ${what} in (< FILE, ... |) or name a FILE`,
    );
  }
}

/** Options for {@linkcode openInput}. */
export interface InputOptions {
  /** What the input should be, for the error message. @default "an image" */
  what?: string;
  /** Reuse one buffer: each chunk is valid until the next is pulled (see `readFd`). @default false */
  reuseBuffer?: boolean;
}

/** The bytes of `source` (a path, or `-`/undefined for standard input). */
export function openInput(
  io: CliIo,
  source?: string,
  options: InputOptions = {},
): AsyncIterable<Uint8Array> {
  const reuseBuffer = options.reuseBuffer ?? false;
  if (source !== undefined && source !== "-") return readFile(source, { reuseBuffer });
  checkBinaryInput(io, source, options.what);
  if (io.stdinFd !== undefined) return readFd(io.stdinFd, { reuseBuffer });
  return io.stdin as AsyncIterable<Uint8Array>;
}

/**
 * Writes binary output to `target`: a path is replaced atomically (holes for
 * zero blocks); `-`/undefined is standard output, sparse when it is an empty
 * regular file, streamed with backpressure otherwise.
 */
export async function writeOutput(
  io: CliIo,
  source: AsyncIterable<Uint8Array>,
  target?: string,
  options: SinkOptions = {},
): Promise<SinkResult> {
  if (target !== undefined && target !== "-") return writeToFile(source, target, options);
  checkBinaryOutput(io, target);
  if (io.stdoutFd !== undefined) return writeToFd(source, io.stdoutFd, options);
  let bytes = 0;
  for await (const chunk of source) {
    await writeChunk(io.stdout, chunk);
    bytes += chunk.length;
  }
  return { bytes, dataBytes: bytes };
}

/** Writes to a Node stream, waiting for drain; rejects if the stream fails. */
export function writeChunk(out: Writable, chunk: Uint8Array): Promise<void> {
  if (out.destroyed) {
    return Promise.reject(
      Object.assign(new Error("write after the output closed"), { code: "EPIPE" }),
    );
  }
  return new Promise((resolve, reject) => {
    const ok = out.write(chunk, (error) => {
      if (error) reject(error);
      else if (ok) resolve();
    });
    if (!ok) {
      const onDrain = () => {
        out.off("error", onError);
        resolve();
      };
      const onError = (error: Error) => {
        out.off("drain", onDrain);
        reject(error);
      };
      out.once("drain", onDrain);
      out.once("error", onError);
    }
  });
}
