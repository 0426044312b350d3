// Finding the real tools tests compare against: missing in CI is a failure, elsewhere a loud skip.
import { execa } from "execa";

/**
 * Whether `tool` runs here. Outside CI a missing tool prints a warning naming
 * its Debian package and the caller skips; in CI (`process.env.CI`) the caller
 * must not skip, so this returns true and the tests fail on their own.
 */
export async function haveTool(tool: string, debianPackage: string): Promise<boolean> {
  const result = await execa(tool, ["--version"], { reject: false });
  if (result.exitCode === 0) return true;
  if (process.env.CI) return true;
  console.warn(`SKIPPING tests that need '${tool}': install the Debian package '${debianPackage}'`);
  return false;
}
