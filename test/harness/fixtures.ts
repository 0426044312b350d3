/**
 * The cached fixtures (Debian kernel, test initramfs, debootstrapped root),
 * built on first use by `test/scripts/build-fixtures.mjs`.
 *
 * @module
 */
import {
  type BootFixtures,
  type DebianRoot,
  ensureBootFixtures,
  ensureDebianRoot,
  fixturesDir,
} from "../scripts/build-fixtures.mjs";

export type { BootFixtures, DebianRoot };
export { fixturesDir };

let boot: Promise<BootFixtures> | undefined;
let debian: Promise<DebianRoot> | undefined;

/**
 * The kernel (`vmlinuz`) and initramfs (`initrd`) for boot tests: downloaded
 * and built once per machine into `<repo>/.cache/fixtures`, then reused. Give
 * the `beforeAll` that calls it a generous timeout (first run: ~10-60 s).
 *
 * The initramfs loads the storage and ext4 modules, mounts `bigfile.root`
 * (default /dev/sda1) as ext3, runs `bigfile-test/manifest.sha256` and
 * `bigfile-test/check.sh` from the image, writes
 * `bigfile-test/guest-result.txt` and powers off, printing `BIGFILE-*`
 * markers (see {@link GUEST_MARKERS}).
 *
 * @example
 * ```ts
 * let fx: BootFixtures;
 * beforeAll(async () => { fx = await bootFixtures(); }, 300_000);
 * ```
 */
export function bootFixtures(): Promise<BootFixtures> {
  boot ??= ensureBootFixtures();
  return boot;
}

/**
 * A Debian bookworm root made by `debootstrap --variant=minbase` (about
 * 200 MB, 6.8k entries; about 30 s the first time). Read-only: copy it before
 * changing anything.
 */
export function debianRoot(): Promise<DebianRoot> {
  debian ??= ensureDebianRoot();
  return debian;
}
