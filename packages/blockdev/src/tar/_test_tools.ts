// Test helpers: finding real tools (tests fail in CI when one is missing,
// and are skipped loudly elsewhere) and streaming helpers.
import { execa } from "execa";

const found = new Map<string, boolean>();

/** Whether `tool` runs; in CI a missing tool is an error, elsewhere a loud warning. */
export async function hasTool(
  tool: string,
  debianPackage: string,
  probe = ["--version"],
): Promise<boolean> {
  let ok = found.get(tool);
  if (ok === undefined) {
    const result = await execa(tool, probe, { reject: false });
    ok = result.exitCode === 0;
    found.set(tool, ok);
  }
  if (!ok) {
    const message = `${tool} is not installed (Debian package ${debianPackage}): real-tool tar tests cannot run`;
    if (process.env.CI) throw new Error(message);
    console.warn(`WARNING: ${message}; skipping`);
  }
  return ok;
}

/** Joins chunks into one array (tests only). */
export async function bytesOf(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of source) {
    chunks.push(c.slice());
    n += c.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Yields `bytes` in chunks of `size` (to exercise block boundaries). */
export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}
