// Finding the real tools for tests: in CI a missing tool fails the test; elsewhere
// the test is skipped with a loud warning naming the Debian package.
import { accessSync, constants } from "node:fs";
import { join } from "node:path";

const PACKAGES: Record<string, string> = {
  mke2fs: "e2fsprogs",
  debugfs: "e2fsprogs",
  dumpe2fs: "e2fsprogs",
  e2fsck: "e2fsprogs",
  mknod: "coreutils",
  tar: "tar",
  sfdisk: "fdisk",
  python3: "python3",
  setcap: "libcap2-bin",
};

function find(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {}
  }
  return undefined;
}

/** Whether every tool is present; throws in CI when one is missing, warns elsewhere. */
export function haveTools(...names: string[]): boolean {
  const missing = names.filter((name) => !find(name));
  if (missing.length === 0) return true;
  const message = missing
    .map((name) => `${name} not found — apt-get install ${PACKAGES[name] ?? name}`)
    .join("; ");
  if (process.env.CI) throw new Error(`Cannot run real-tool tests in CI: ${message}`);
  console.warn(`SKIPPING ext3fs reader tests against real tools: ${message}`);
  return false;
}
