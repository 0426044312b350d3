/**
 * vitest globalSetup: builds the boot fixtures (kernel + initramfs) once before
 * the test files run, when the tools to build them are there. Add it to a
 * package's vitest config as `globalSetup: ["../../test/harness/global_setup.ts"]`
 * (tests can also just call `bootFixtures()` in a `beforeAll`).
 *
 * @module
 */
import { ensureBootFixtures } from "../scripts/build-fixtures.mjs";
import { findTool } from "./tools.ts";

/** Builds the boot fixtures unless the tools are missing (the tests then skip or fail). */
export default async function setup(): Promise<void> {
  if (!findTool("dpkg") || !findTool("apt-get") || !findTool("busybox") || !findTool("cpio"))
    return;
  try {
    await ensureBootFixtures();
  } catch (error) {
    // The tests that need the fixtures call bootFixtures() and fail with this error.
    console.warn(`Cannot build the boot fixtures: ${(error as Error).message}`);
  }
}
