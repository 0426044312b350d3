import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTar } from "@bigfile/blockdev";
import { execa } from "execa";
import { GrubInstallError } from "../grub_install_error.ts";

/** Where distributions keep GRUB's i386-pc files, in the order they are tried. */
export const GRUB_DIR_CANDIDATES: readonly string[] = [
  "/usr/lib/grub/i386-pc",
  "/usr/lib/grub2/i386-pc",
  "/usr/share/grub2/i386-pc",
];

/** What to install when GRUB's files are missing. */
export const GRUB_PACKAGE_HINT =
  "install grub-pc-bin (Debian, Ubuntu) or grub2-pc-modules (Fedora), or name the directory with --grub-dir or $GRUB_DIR";

/** Options for {@linkcode findGrubDir}. */
export interface FindGrubDirOptions {
  /** An explicit directory (--grub-dir): used alone when given. */
  grubDir?: string | undefined;
  /** The environment, for $GRUB_DIR. */
  env?: Record<string, string | undefined>;
}

/**
 * The directory holding GRUB's i386-pc boot.img, modules and lists: `grubDir`,
 * else `$GRUB_DIR`, else the usual distribution paths. Throws a message naming
 * the package to install when none has boot.img.
 */
export async function findGrubDir(options: FindGrubDirOptions = {}): Promise<string> {
  const env = options.env ?? {};
  const tried = options.grubDir
    ? [options.grubDir]
    : env.GRUB_DIR
      ? [env.GRUB_DIR]
      : [...GRUB_DIR_CANDIDATES];
  for (const dir of tried) {
    try {
      if ((await stat(join(dir, "boot.img"))).isFile()) return dir;
    } catch {
      // Try the next one.
    }
  }
  throw new GrubInstallError(
    `GRUB's i386-pc files (boot.img, *.mod) are not in ${tried.join(", ")}; ${GRUB_PACKAGE_HINT}`,
  );
}

/** Options for {@linkcode buildCoreImage}. */
export interface BuildCoreImageOptions {
  /** Where GRUB finds /boot/grub at boot. @default "(hd0,msdos1)/boot/grub" */
  prefix?: string;
  /** Modules built into core.img. @default ["biosdisk", "part_msdos", "ext2"] */
  modules?: readonly string[];
}

/** The modules a core.img needs to read /boot/grub from an ext2/3/4 partition. */
export function coreModules(scheme: "msdos" | "gpt"): string[] {
  return scheme === "gpt"
    ? ["biosdisk", "part_msdos", "part_gpt", "ext2"]
    : ["biosdisk", "part_msdos", "ext2"];
}

/**
 * Builds core.img with `grub-mkimage -O i386-pc -d DIR -p PREFIX MODULES...`.
 */
export async function buildCoreImage(
  grubDir: string,
  options: BuildCoreImageOptions = {},
): Promise<Uint8Array> {
  const prefix = options.prefix ?? "(hd0,msdos1)/boot/grub";
  const modules = options.modules ?? ["biosdisk", "part_msdos", "ext2"];
  // grub-mkimage fsyncs its output, which fails on a pipe: write a temporary file.
  const dir = await mkdtemp(join(tmpdir(), "grub-mbr-core-"));
  try {
    const out = join(dir, "core.img");
    const args = ["-O", "i386-pc", "-d", grubDir, "-p", prefix, "-o", out, ...modules];
    const result = await execa("grub-mkimage", args, { reject: false });
    if ((result as { code?: string }).code === "ENOENT" || result.exitCode === undefined) {
      throw new GrubInstallError(
        "grub-mkimage is not installed, so core.img cannot be built; install grub-common (Debian, Ubuntu) or grub2-tools (Fedora), or give --core-img FILE",
      );
    }
    if (result.exitCode !== 0) {
      throw new GrubInstallError(`grub-mkimage failed: ${String(result.stderr).trim()}`);
    }
    return new Uint8Array(await readFile(out));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Options for {@linkcode grubFilesTar}. */
export interface GrubFilesTarOptions {
  /** grub.cfg's text; none is written when omitted. */
  config?: string;
  /** Modification time of every member, in seconds. @default 0 */
  mtime?: number;
}

/**
 * The /boot/grub payload as a tar stream: `boot/`, `boot/grub/`,
 * `boot/grub/i386-pc/` with every `*.mod` and `*.lst` of `grubDir`, and
 * `boot/grub/grub.cfg` when a config is given; for `ext3fs mkfs` to lay over
 * a root tree.
 *
 * @example Usage
 * ```ts
 * import { grubConfig } from "@bigfile/grub-mbr";
 * import { grubFilesTar } from "@bigfile/grub-mbr/node";
 * const tar = grubFilesTar("/usr/lib/grub/i386-pc", { config: grubConfig({ serial: true }) });
 * ```
 */
export async function* grubFilesTar(
  grubDir: string,
  options: GrubFilesTarOptions = {},
): AsyncGenerator<Uint8Array> {
  const mtime = options.mtime ?? 0;
  const names = (await readdir(grubDir))
    .filter((n) => n.endsWith(".mod") || n.endsWith(".lst"))
    .sort();
  if (!names.some((n) => n.endsWith(".mod"))) {
    throw new GrubInstallError(`no GRUB modules (*.mod) in ${grubDir}; ${GRUB_PACKAGE_HINT}`);
  }
  async function* entries() {
    yield { path: "boot", type: "directory" as const, mtime };
    yield { path: "boot/grub", type: "directory" as const, mtime };
    yield { path: "boot/grub/i386-pc", type: "directory" as const, mtime };
    for (const name of names) {
      yield {
        path: `boot/grub/i386-pc/${name}`,
        type: "file" as const,
        mtime,
        body: new Uint8Array(await readFile(join(grubDir, name))),
      };
    }
    if (options.config !== undefined) {
      yield {
        path: "boot/grub/grub.cfg",
        type: "file" as const,
        mtime,
        body: new TextEncoder().encode(options.config),
      };
    }
  }
  yield* writeTar(entries());
}
