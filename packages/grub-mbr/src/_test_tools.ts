// The one test helper the shared harness (test/harness) does not have.
import { open } from "node:fs/promises";
import { sfdiskApply } from "../../../test/harness/mod.ts";

/** Makes a sparse image of `size` bytes and partitions it with an sfdisk script. */
export async function sfdiskImage(path: string, size: number, script: string): Promise<void> {
  const file = await open(path, "w");
  await file.truncate(size);
  await file.close();
  await sfdiskApply(path, script);
}
