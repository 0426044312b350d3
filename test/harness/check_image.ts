/**
 * Every oracle at once: what a bootable big file must satisfy, as one report.
 *
 * @module
 */
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { type CompareOptions, compareTrees, type TreeSnapshot } from "./compare_trees.ts";
import { debugfsCat, debugfsTree } from "./debugfs.ts";
import { type E2fsckResult, e2fsck } from "./e2fsck.ts";
import { GUEST_MARKERS, GUEST_RESULT_PATH, parseGuestResult } from "./guest.ts";
import { type PygrubResult, runPygrub } from "./pygrub.ts";
import { type BootQemuOptions, type BootQemuResult, bootQemu } from "./qemu.ts";
import { type SfdiskJsonResult, sfdiskJson } from "./sfdisk.ts";

/** What pygrub must find (SHA-256 of the files, exact args). */
export interface PygrubExpectation {
  kernelSha256?: string;
  ramdiskSha256?: string;
  args?: string;
}

/** Options of {@link checkImage}. */
export interface CheckImageOptions {
  /** Partition holding the filesystem (1-4). @default 1 */
  partition?: number;
  /** Byte offset of the filesystem; default: from the partition table. */
  offset?: number;
  /** The tree the filesystem must hold (a host directory or a snapshot). */
  tree?: string | TreeSnapshot;
  /** How to compare it. @default { ignore: ["/lost+found"] } */
  compare?: CompareOptions;
  /** Run pygrub (true: must find a kernel; object: and match these). @default false */
  pygrub?: boolean | PygrubExpectation;
  /**
   * Boot a sparse copy in QEMU (the original is never written). The image
   * must carry the test initramfs; it must print these markers
   * (default: mounted, unmounted, done ok), then e2fsck must be clean and
   * guest-result.txt must say status=ok. @default false
   */
  boot?: boolean | (BootQemuOptions & { markers?: readonly string[] });
}

/** The report of {@link checkImage}. */
export interface ImageReport {
  /** Every failed expectation, one line each; empty when the image passes. */
  problems: string[];
  sfdisk: SfdiskJsonResult;
  offset: number | undefined;
  e2fsck?: E2fsckResult;
  treeDiffs?: string[];
  pygrub?: PygrubResult;
  boot?: BootQemuResult;
  afterBoot?: { e2fsck: E2fsckResult; guestResult: Record<string, string> | undefined };
}

/**
 * Runs the oracles on a disk image: `sfdisk --json`, `e2fsck -fn` on the
 * partition, the debugfs tree against `tree`, pygrub, and a QEMU boot of a
 * copy followed by e2fsck and the guest's result file.
 *
 * @example
 * ```ts
 * const report = await checkImage("disk.img", { tree: root, pygrub: true, boot: true });
 * expect(report.problems).toEqual([]);
 * ```
 */
export async function checkImage(
  image: string,
  options: CheckImageOptions = {},
): Promise<ImageReport> {
  const problems: string[] = [];
  const sfdisk = await sfdiskJson(image);
  const partition = options.partition ?? 1;
  let offset = options.offset;
  if (!sfdisk.table) problems.push(`sfdisk: no partition table (${sfdisk.stderr.trim()})`);
  else if (offset === undefined) {
    const p = sfdisk.table.partitions?.find((x) => x.node.endsWith(String(partition)));
    if (p) offset = p.start * (sfdisk.table.sectorsize ?? 512);
    else problems.push(`sfdisk: no partition ${partition}`);
  }
  const report: ImageReport = { problems, sfdisk, offset };
  if (offset === undefined) return report;

  report.e2fsck = await e2fsck(image, { offset });
  for (const line of report.e2fsck.problems) problems.push(`e2fsck: ${line}`);
  if (report.e2fsck.exitCode !== 0) problems.push(`e2fsck: exit code ${report.e2fsck.exitCode}`);

  if (options.tree !== undefined) {
    const inImage = await debugfsTree(image, { offset });
    report.treeDiffs = await compareTrees(
      options.tree,
      inImage,
      options.compare ?? { ignore: ["/lost+found"] },
    );
    for (const d of report.treeDiffs) problems.push(`tree: ${d}`);
  }

  if (options.pygrub) {
    const py = await runPygrub(image);
    report.pygrub = py;
    if (!py.ok) problems.push(`pygrub: failed (${py.output.trim().split("\n").pop()})`);
    const want = typeof options.pygrub === "object" ? options.pygrub : {};
    if (want.kernelSha256 && py.kernel?.sha256 !== want.kernelSha256)
      problems.push("pygrub: kernel differs");
    if (want.ramdiskSha256 && py.ramdisk?.sha256 !== want.ramdiskSha256) {
      problems.push("pygrub: ramdisk differs");
    }
    if (want.args !== undefined && py.args !== want.args) {
      problems.push(`pygrub: args ${JSON.stringify(py.args)} != ${JSON.stringify(want.args)}`);
    }
  }

  if (options.boot) {
    const bootOptions = typeof options.boot === "object" ? options.boot : {};
    const markers = bootOptions.markers ?? [
      GUEST_MARKERS.mounted,
      GUEST_MARKERS.unmounted,
      GUEST_MARKERS.doneOk,
    ];
    const copy = join(dirname(image), `.bigfile-boot-${process.pid}-${Date.now()}.img`);
    try {
      await execa("cp", ["--sparse=always", image, copy]);
      const boot = await bootQemu(copy, { stopOn: [GUEST_MARKERS.done], ...bootOptions, markers });
      report.boot = boot;
      for (const m of markers)
        if (!boot.markers[m]) problems.push(`boot: no "${m}" on the console`);
      if (boot.timedOut) problems.push("boot: timed out");
      const after = await e2fsck(copy, { offset, guestClock: true });
      let guestResult: Record<string, string> | undefined;
      try {
        guestResult = parseGuestResult(
          (await debugfsCat(copy, GUEST_RESULT_PATH, { offset })).toString(),
        );
      } catch {
        guestResult = undefined;
      }
      report.afterBoot = { e2fsck: after, guestResult };
      for (const line of after.problems) problems.push(`after boot: e2fsck: ${line}`);
      if (!bootOptions.append?.includes("bigfile.ro=1") && guestResult?.status !== "ok") {
        problems.push(
          `after boot: guest result ${guestResult ? `status=${guestResult.status}` : "missing"}`,
        );
      }
    } finally {
      await rm(copy, { force: true });
    }
  }
  return report;
}
