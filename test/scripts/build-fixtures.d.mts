// Types for build-fixtures.mjs (plain JavaScript so it runs before any build).

/** Bump when the layout of the fixtures changes, to rebuild old caches. */
export const FIXTURE_FORMAT: number;
/** Modules loaded by the initramfs /init, in this order. */
export const INITRAMFS_MODULES: readonly string[];
/** The repository root. */
export const repoRoot: string;
/** The fixture cache directory (BIGFILE_FIXTURES_DIR or <repo>/.cache/fixtures). */
export function fixturesDir(): string;

/** Paths of the kernel and initramfs fixtures. */
export interface BootFixtures {
  dir: string;
  vmlinuz: string;
  initrd: string;
  kernelVersion: string;
  kernelPackage: string;
  modules: string[];
}
/** Makes sure the kernel and initramfs exist; builds what is missing. */
export function ensureBootFixtures(options?: { force?: boolean }): Promise<BootFixtures>;

/** The debootstrapped Debian root. */
export interface DebianRoot {
  root: string;
  suite: string;
  mirror: string;
  entries: number;
}
/** The apt mirror this machine uses for Debian. */
export function debianMirror(): Promise<string>;
/** Makes sure the debootstrapped Debian root exists; returns its path. */
export function ensureDebianRoot(options?: {
  force?: boolean;
  suite?: string;
}): Promise<DebianRoot>;
