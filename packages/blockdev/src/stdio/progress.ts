import type { CliIo } from "@bigfile/cli-kit/node";
import { formatSize } from "../size.ts";

/** A progress line on stderr; a no-op unless stderr is a terminal and not in CI. */
export interface Progress {
  update(done: number): void;
  finish(): void;
}

/** Progress for work over about a second: updates at most 4 times a second. */
export function createProgress(io: CliIo, label: string, total?: number): Progress {
  if (!io.stderrIsTTY || io.env.CI) return { update() {}, finish() {} };
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(done) {
      const now = Date.now();
      if (now - started < 1000 || now - last < 250) return;
      last = now;
      shown = true;
      const pct = total ? ` ${((100 * done) / total).toFixed(0)}%` : "";
      io.stderr.write(`\r${label}: ${formatSize(done)}${pct}\x1b[K`);
    },
    finish() {
      if (shown) io.stderr.write("\r\x1b[K");
    },
  };
}

/** `source`'s chunks unchanged, counted into a {@linkcode createProgress} line as they pass. */
export async function* withProgress(
  io: CliIo,
  label: string,
  total: number | undefined,
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const progress = createProgress(io, label, total);
  let done = 0;
  try {
    for await (const chunk of source) {
      done += chunk.length;
      progress.update(done);
      yield chunk;
    }
  } finally {
    progress.finish();
  }
}
