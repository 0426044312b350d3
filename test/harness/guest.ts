/**
 * What the test initramfs runs inside the guest: the markers it prints and the
 * files a test puts into the image's `/bigfile-test/` to be checked.
 *
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { snapshotDir } from "./compare_trees.ts";

/** Marker lines the initramfs /init prints on the serial console. */
export const GUEST_MARKERS = {
  /** /init started (the kernel and initramfs loaded). */
  start: "BIGFILE-INIT-START",
  /** The root filesystem is mounted (followed by device and type). */
  mounted: "BIGFILE-MOUNTED",
  /** `sha256sum -c bigfile-test/manifest.sha256` passed. */
  manifestOk: "BIGFILE-MANIFEST-OK",
  /** The manifest check failed. */
  manifestFail: "BIGFILE-MANIFEST-FAIL",
  /** `sh bigfile-test/check.sh /mnt` exited 0. */
  checkOk: "BIGFILE-CHECK-OK",
  /** check.sh failed. */
  checkFail: "BIGFILE-CHECK-FAIL",
  /** bigfile-test/guest-result.txt was written. */
  wrote: "BIGFILE-WROTE",
  /** The root was unmounted cleanly. */
  unmounted: "BIGFILE-UNMOUNTED",
  /** All went well; about to power off. */
  doneOk: "BIGFILE-DONE ok",
  /** Something failed; about to power off. */
  doneFail: "BIGFILE-DONE fail",
  /** Either end (use as `stopOn`). */
  done: "BIGFILE-DONE",
} as const;

/** Where the guest writes its result, inside the image's filesystem. */
export const GUEST_RESULT_PATH = "/bigfile-test/guest-result.txt";

/** Options of {@link writeGuestManifest}. */
export interface GuestManifestOptions {
  /** Leave out files larger than this (the guest hashes slowly under TCG). @default 16 MiB */
  maxSize?: number;
}

/**
 * Writes `root/bigfile-test/manifest.sha256`: one `HASH  ./path` line per
 * regular file of the tree (names with a newline or backslash left out, as
 * busybox cannot read them back), for the guest to verify with
 * `sha256sum -c`. Returns the number of files listed.
 */
export async function writeGuestManifest(
  root: string,
  options: GuestManifestOptions = {},
): Promise<number> {
  const maxSize = options.maxSize ?? 16 << 20;
  const tree = await snapshotDir(root);
  const lines: string[] = [];
  for (const e of tree.entries.values()) {
    if (e.type !== "file" || e.size > maxSize || /[\n\\]/.test(e.path)) continue;
    if (e.path.startsWith("/bigfile-test/")) continue;
    lines.push(`${e.sha256}  .${e.path}`);
  }
  await mkdir(join(root, "bigfile-test"), { recursive: true });
  await writeFile(join(root, "bigfile-test", "manifest.sha256"), `${lines.join("\n")}\n`);
  return lines.length;
}

/**
 * Writes `root/bigfile-test/check.sh`: a busybox `sh` script the guest runs as
 * `sh check.sh MOUNTPOINT` after mounting the root; exit 0 means pass. Its
 * output lands in the serial log and in `bigfile-test/check.log`.
 */
export async function writeGuestCheck(root: string, script: string): Promise<void> {
  await mkdir(join(root, "bigfile-test"), { recursive: true });
  await writeFile(join(root, "bigfile-test", "check.sh"), script, { mode: 0o755 });
}

/** Parses guest-result.txt (`key=value` lines). */
export function parseGuestResult(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}
