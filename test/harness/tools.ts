/**
 * Finding the real tools (sfdisk, e2fsck, QEMU, pygrub, ...) and deciding what
 * a test does when one is missing: in CI (`CI` set) the test fails; elsewhere
 * the tier is skipped with one loud line naming the Debian package.
 *
 * @module
 */
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, it } from "vitest";

/** The Debian package that provides each tool the harness knows. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  sfdisk: "fdisk",
  e2fsck: "e2fsprogs",
  debugfs: "e2fsprogs",
  mke2fs: "e2fsprogs",
  dumpe2fs: "e2fsprogs",
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-img": "qemu-utils",
  "qemu-io": "qemu-utils",
  "grub-mkimage": "grub-common",
  "grub-bios-setup": "grub-pc-bin",
  "/usr/lib/grub/i386-pc": "grub-pc-bin",
  pygrub: "xen-utils-4.17",
  busybox: "busybox-static",
  cpio: "cpio",
  genext2fs: "genext2fs",
  debootstrap: "debootstrap",
  script: "bsdutils",
  unshare: "util-linux",
  mount: "mount",
  mknod: "coreutils",
  python3: "python3",
  gzip: "gzip",
  dpkg: "dpkg",
  "apt-get": "apt",
  tar: "tar",
  fdisk: "fdisk",
  setcap: "libcap2-bin",
  getcap: "libcap2-bin",
  dd: "coreutils",
  "virt-xml-validate": "libvirt-clients",
  xmllint: "libxml2-utils",
};

/** The tools every boot test needs (QEMU plus what builds the fixtures). */
export const BOOT_TOOLS: readonly string[] = [
  "qemu-system-x86_64",
  "busybox",
  "cpio",
  "gzip",
  "dpkg",
  "apt-get",
];

/** True when running in CI (`CI` set to anything but "", "0" or "false"). */
export function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function searchPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const extra of ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
    if (!dirs.includes(extra)) dirs.push(extra);
  }
  for (const dir of dirs) {
    const path = join(dir, name);
    if (executable(path)) return path;
  }
  return undefined;
}

/** Paths to try for tools that Debian keeps off PATH. */
function extraLocations(name: string): string[] {
  if (name === "grub-bios-setup") return ["/usr/lib/grub/i386-pc/grub-bios-setup"];
  if (name === "pygrub") {
    let xen: string[] = [];
    try {
      xen = readdirSync("/usr/lib").filter((d) => d.startsWith("xen-"));
    } catch {
      // no /usr/lib: nothing to add
    }
    return [
      "/usr/bin/pygrub",
      ...xen
        .sort()
        .reverse()
        .map((d) => `/usr/lib/${d}/bin/pygrub`),
    ];
  }
  return [];
}

/**
 * Where a tool is, or undefined. `name` is a command (looked up on PATH, plus
 * the sbin directories and Debian's off-PATH homes of pygrub and
 * grub-bios-setup) or an absolute path (file or directory) that must exist.
 *
 * @example Find pygrub
 * ```ts
 * const pygrub = findTool("pygrub"); // "/usr/bin/pygrub" on Debian
 * ```
 */
export function findTool(name: string): string | undefined {
  if (name === ROOT) return process.getuid?.() === 0 ? "root" : undefined;
  if (name.startsWith("/")) return existsSync(name) ? name : undefined;
  return searchPath(name) ?? extraLocations(name).find(executable);
}

/**
 * A pseudo-tool for tests that need root (mknod, chown, mount namespaces):
 * list it with the tools, e.g. `describeWithTools([ROOT, "mke2fs"], ...)`.
 */
export const ROOT = "root";

/** The message for a missing tool: what is missing and which package to install. */
export function missingToolMessage(name: string, debianPackage?: string): string {
  if (name === ROOT) return "not running as root — run the tests as root (mknod, chown, unshare)";
  const pkg = debianPackage ?? TOOL_PACKAGES[name] ?? name;
  return `${name} not found — apt-get install ${pkg}`;
}

const warned = new Set<string>();

/** Prints the loud skip line once per process and message. */
function warnSkip(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(`SKIPPING real-system tier: ${message}`);
}

/**
 * Path of a tool the test needs. Missing in CI: throws (the test fails).
 * Missing elsewhere: prints one loud line and returns undefined, so the
 * caller skips.
 *
 * @param name a command or an absolute path
 * @param debianPackage the package to name; defaults from {@link TOOL_PACKAGES}
 * @example
 * ```ts
 * const qemu = requireTool("qemu-system-x86_64", "qemu-system-x86");
 * if (!qemu) return; // skipped outside CI
 * ```
 */
export function requireTool(name: string, debianPackage?: string): string | undefined {
  const path = findTool(name);
  if (path) return path;
  const message = missingToolMessage(name, debianPackage);
  if (isCI()) throw new Error(`Real-system tier cannot run in CI: ${message}`);
  warnSkip(message);
  return undefined;
}

/** A tool as a name (package from {@link TOOL_PACKAGES}) or `[name, debianPackage]`. */
export type ToolSpec = string | readonly [name: string, debianPackage: string];

/** The missing tools of a list, as messages naming their packages. */
export function missingTools(tools: readonly ToolSpec[]): string[] {
  const missing: string[] = [];
  for (const tool of tools) {
    const [name, pkg] = typeof tool === "string" ? [tool, undefined] : tool;
    if (!findTool(name)) missing.push(missingToolMessage(name, pkg));
  }
  return missing;
}

/**
 * True when every tool is there. When some are missing: in CI throws, outside
 * CI prints one loud line and returns false.
 */
export function haveTools(tools: readonly ToolSpec[]): boolean {
  const missing = missingTools(tools);
  if (missing.length === 0) return true;
  const message = missing.join("; ");
  if (isCI()) throw new Error(`Real-system tier cannot run in CI: ${message}`);
  warnSkip(message);
  return false;
}

/**
 * {@link haveTools} for one tool, for tests that check as they go:
 * `if (!haveTool("mke2fs")) return;`.
 */
export function haveTool(name: string, debianPackage?: string): boolean {
  return haveTools([debianPackage ? [name, debianPackage] : name]);
}

/**
 * `describe` for tests that need real tools. All present: a normal describe.
 * Some missing outside CI: one loud `console.warn` line naming the Debian
 * packages, and the block is skipped (`describe.skipIf`). Some missing in CI:
 * the block holds a single failing test that names them.
 *
 * @example
 * ```ts
 * describeWithTools(["sfdisk", "e2fsck"], "mbr against sfdisk", () => {
 *   it("reads our table", async () => { ... });
 * });
 * ```
 */
export function describeWithTools(tools: readonly ToolSpec[], name: string, fn: () => void): void {
  const missing = missingTools(tools);
  if (missing.length > 0 && isCI()) {
    describe(name, () => {
      it("has the real-system tools it needs", () => {
        throw new Error(`Real-system tier cannot run in CI: ${missing.join("; ")}`);
      });
    });
    return;
  }
  if (missing.length > 0) warnSkip(missing.join("; "));
  describe.skipIf(missing.length > 0)(name, fn);
}
