import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");

/**
 * Where the Debian minbase root fixture lives: `BIGFILE_DEBIAN_ROOT`, else
 * `debian-bookworm-minbase` in the fixtures cache (`BIGFILE_FIXTURES_DIR`,
 * default `<repo>/.cache/fixtures`), built by
 * `node test/scripts/build-fixtures.mjs --rootfs`.
 */
export function debianRootPath(): string {
  return (
    process.env.BIGFILE_DEBIAN_ROOT ??
    join(
      process.env.BIGFILE_FIXTURES_DIR ?? join(repoRoot, ".cache", "fixtures"),
      "debian-bookworm-minbase",
    )
  );
}

/**
 * Whether the Debian root fixture exists. Missing: with `CI` set this throws
 * (CI builds the fixture before the tests, so a missing root is a failure);
 * elsewhere it warns loudly, naming the command that builds it, so the caller skips.
 */
export function haveDebianRoot(root = debianRootPath()): boolean {
  if (existsSync(join(root, "usr", "bin"))) return true;
  const message = `no Debian root at ${root}: build it with \`node test/scripts/build-fixtures.mjs --rootfs\` (or set BIGFILE_DEBIAN_ROOT)`;
  if (process.env.CI) throw new Error(`Missing fixture: ${message}`);
  console.warn(`\n*** SKIPPED: ${message} ***\n`);
  return false;
}
