/**
 * Scratch directories for tests.
 *
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A scratch directory; `remove()` deletes it. */
export interface TempDir {
  path: string;
  /** Removes the directory and everything in it. */
  remove(): Promise<void>;
}

/**
 * Creates a directory under the OS temp dir (`bigfile-PREFIX-XXXXXX`).
 *
 * @example
 * ```ts
 * const tmp = await tempDir("e2e");
 * afterAll(() => tmp.remove());
 * ```
 */
export async function tempDir(prefix = "test"): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `bigfile-${prefix}-`));
  const remove = () => rm(path, { recursive: true, force: true });
  return { path, remove };
}
