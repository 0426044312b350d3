import { execa } from "execa";

const cache = new Map<string, boolean>();

/**
 * Whether a real tool is installed. In CI a missing tool fails the test;
 * elsewhere it warns loudly (naming the Debian package) so the caller skips.
 */
export async function haveTool(name: string, debianPackage: string): Promise<boolean> {
  let ok = cache.get(name);
  if (ok === undefined) {
    const r = await execa("sh", ["-c", `command -v ${name}`], { reject: false });
    ok = r.exitCode === 0;
    cache.set(name, ok);
  }
  if (!ok) {
    if (process.env.CI)
      throw new Error(`${name} is missing: install the Debian package ${debianPackage}`);
    console.warn(`SKIPPED: ${name} is missing (Debian package ${debianPackage})`);
  }
  return ok;
}
