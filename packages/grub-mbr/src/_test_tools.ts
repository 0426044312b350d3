// Test helpers for tests that run real tools (until test/harness lands).
import { execa } from "execa";

const checked = new Map<string, boolean>();

/**
 * Whether `command` runs here. Missing in CI: the test fails; elsewhere it is
 * skipped with a loud warning naming the Debian package.
 */
export async function haveTool(command: string, debianPackage: string): Promise<boolean> {
  let ok = checked.get(command);
  if (ok === undefined) {
    const r = await execa("sh", ["-c", `command -v ${command} || test -x ${command}`], {
      reject: false,
    });
    ok = r.exitCode === 0;
    checked.set(command, ok);
  }
  if (!ok) {
    const message = `${command} is missing: install the Debian package ${debianPackage}`;
    if (process.env.CI) throw new Error(`${message} (required in CI)`);
    console.warn(`SKIPPED: ${message}`);
  }
  return ok;
}

/** `unshare` arguments for a private mount namespace (plus a user namespace when not root). */
function unshareArgs(): string[] {
  return process.getuid?.() === 0
    ? ["-m", "--propagation", "private"]
    : ["-r", "-m", "--propagation", "private"];
}

/**
 * Whether we may run grub-bios-setup on image files: it needs a private mount
 * namespace (root, or unprivileged user namespaces for `unshare -r -m`).
 */
export async function canRunGrubBiosSetup(): Promise<boolean> {
  if (!(await haveTool(GRUB_BIOS_SETUP, "grub-pc-bin"))) return false;
  if (!(await haveTool("unshare", "util-linux"))) return false;
  const probe = await execa("unshare", [...unshareArgs(), "true"], { reject: false });
  if (probe.exitCode !== 0) {
    const message = `grub-bios-setup golden tests need 'unshare -m' (root) or 'unshare -r -m' (user namespaces): ${String(probe.stderr).trim()}`;
    if (process.env.CI) throw new Error(message);
    console.warn(`SKIPPED: ${message}`);
    return false;
  }
  return true;
}

export const GRUB_BIOS_SETUP = "/usr/lib/grub/i386-pc/grub-bios-setup";

/**
 * Runs Debian's grub-bios-setup on an image file without a loop device: in a
 * private mount namespace, a tmpfs whose source is the image path is mounted on
 * the -d directory (so GRUB's root-device guess finds the image), with a device
 * map `(hd0) IMAGE`.
 */
export async function grubBiosSetup(
  image: string,
  bootImg: string,
  coreImg: string,
  args: string[] = [],
): Promise<{ exitCode: number; stderr: string }> {
  const script = `
set -e
IMG=$1; BOOT=$2; CORE=$3; shift 3
D=$(mktemp -d)
trap 'umount "$D" 2>/dev/null; rmdir "$D"' EXIT
mount -t tmpfs "$IMG" "$D"
cp "$BOOT" "$D/boot.img"
cp "$CORE" "$D/core.img"
echo "(hd0) $IMG" > "$D/device.map"
${GRUB_BIOS_SETUP} -d "$D" -m "$D/device.map" "$@" "$IMG"
`;
  const r = await execa(
    "unshare",
    [...unshareArgs(), "sh", "-c", script, "sh", image, bootImg, coreImg, ...args],
    {
      reject: false,
    },
  );
  return { exitCode: r.exitCode ?? 1, stderr: String(r.stderr) };
}

/** Makes a sparse image of `size` bytes and partitions it with an sfdisk script. */
export async function sfdiskImage(path: string, size: number, script: string): Promise<void> {
  await execa("truncate", ["-s", String(size), path]);
  const r = await execa("sfdisk", ["-q", "--no-reread", "--no-tell-kernel", path], {
    input: script,
    reject: false,
  });
  if (r.exitCode !== 0) throw new Error(`sfdisk failed: ${r.stderr}`);
}
