/**
 * The golden GRUB install: Debian's own grub-bios-setup run on an image file,
 * without a loop device.
 *
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { GRUB_I386_PC_DIR } from "./grub_mkimage.ts";

/** Options of {@link grubBiosSetupGolden}. */
export interface GrubBiosSetupOptions {
  /** boot.img to install. @default "/usr/lib/grub/i386-pc/boot.img" */
  bootImg?: string;
  /** core.img to embed (see {@link grubMkimage}). */
  coreImg: string;
  /** `--no-rs-codes`: no Reed-Solomon parity after core.img. @default false */
  noRsCodes?: boolean;
  /** More grub-bios-setup flags (e.g. "--allow-floppy", "--force"). */
  extraArgs?: readonly string[];
}

/** What grub-bios-setup did. */
export interface GrubBiosSetupResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/**
 * Runs `/usr/lib/grub/i386-pc/grub-bios-setup` on `image` IN PLACE, as
 * e2e-notes.md describes: inside a private mount namespace (`unshare -m
 * --propagation private`), a tmpfs whose *source* is the image path is
 * mounted on the `-d` directory (so grub-bios-setup's root-device guess finds
 * the image), boot.img and core.img are copied there, and the device map says
 * `(hd0) IMAGE`. Needs root (or, as a user, `unshare -r` user namespaces).
 * Copy the image first to keep the original.
 *
 * @example
 * ```ts
 * const core = await grubMkimage(join(dir, "core.img"));
 * const r = await grubBiosSetupGolden(golden, { coreImg: core });
 * expect(r.exitCode).toBe(0);
 * ```
 */
export async function grubBiosSetupGolden(
  image: string,
  options: GrubBiosSetupOptions,
): Promise<GrubBiosSetupResult> {
  const dir = await mkdtemp(join(tmpdir(), "bigfile-grub-setup-"));
  try {
    const flags = [...(options.noRsCodes ? ["--no-rs-codes"] : []), ...(options.extraArgs ?? [])];
    const script = [
      'mount -t tmpfs "$1" "$2"',
      'cp "$3" "$2/boot.img"',
      'cp "$4" "$2/core.img"',
      'printf "(hd0) %s\\n" "$1" > "$2/device.map"',
      `"$5" ${flags.map((f) => `'${f}'`).join(" ")} -d "$2" -m "$2/device.map" "$1"`,
    ].join(" && ");
    const r = await execa(
      "unshare",
      [
        // Not root: a user namespace (`-r`) lets us mount the tmpfs too.
        ...(process.getuid?.() === 0 ? [] : ["-r"]),
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
        resolve(image),
        dir,
        resolve(options.bootImg ?? join(GRUB_I386_PC_DIR, "boot.img")),
        resolve(options.coreImg),
        join(GRUB_I386_PC_DIR, "grub-bios-setup"),
      ],
      { reject: false, stdin: "ignore", env: { LANG: "C" } },
    );
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
