/**
 * sfdisk as an oracle for partition tables.
 *
 * @module
 */
import { execa } from "execa";

/** One partition as `sfdisk --json` reports it. */
export interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  bootable?: boolean;
  [key: string]: unknown;
}

/** `sfdisk --json`'s `partitiontable` object. */
export interface SfdiskTable {
  label: string;
  id?: string;
  device: string;
  unit: string;
  sectorsize?: number;
  partitions?: SfdiskPartition[];
  [key: string]: unknown;
}

/** The result of {@link sfdiskJson}. */
export interface SfdiskJsonResult {
  exitCode: number | undefined;
  /** The parsed table, or undefined when sfdisk found none. */
  table: SfdiskTable | undefined;
  stderr: string;
}

/**
 * `sfdisk --json IMAGE`, parsed. A missing table is a result
 * (`table: undefined`, non-zero exit code), not an exception.
 *
 * @example
 * ```ts
 * const { table } = await sfdiskJson("disk.img");
 * expect(table?.partitions?.[0]).toMatchObject({ start: 63, size: 8080632, type: "83" });
 * ```
 */
export async function sfdiskJson(image: string): Promise<SfdiskJsonResult> {
  const r = await execa("sfdisk", ["--json", image], {
    reject: false,
    stdin: "ignore",
    env: { LANG: "C" },
  });
  let table: SfdiskTable | undefined;
  if (r.exitCode === 0 && r.stdout.trim()) {
    table = (JSON.parse(r.stdout) as { partitiontable?: SfdiskTable }).partitiontable;
  }
  return { exitCode: r.exitCode, table, stderr: r.stderr };
}

/** `sfdisk --dump IMAGE` text (the sfdisk script format), or throws. */
export async function sfdiskDump(image: string): Promise<string> {
  const r = await execa("sfdisk", ["--dump", image], {
    reject: false,
    stdin: "ignore",
    env: { LANG: "C" },
  });
  if (r.exitCode !== 0) throw new Error(`sfdisk --dump ${image} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Writes a partition table with `sfdisk` from a script (e.g. "start=63, type=83, bootable"). */
export async function sfdiskApply(image: string, script: string): Promise<void> {
  const r = await execa("sfdisk", ["--no-reread", "--no-tell-kernel", "-q", image], {
    reject: false,
    input: script,
    env: { LANG: "C" },
  });
  if (r.exitCode !== 0) throw new Error(`sfdisk ${image} failed: ${r.stderr.trim()}`);
}
