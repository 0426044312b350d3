/**
 * core.img built by grub-mkimage, kept between builds: the same GRUB files,
 * prefix and modules give the same bytes, and starting grub-mkimage from a
 * process that has walked a tree costs more than the build itself.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { buildCoreImage } from "@bigfile/grub-mbr/node";

/** Where cached images go: $XDG_CACHE_HOME/bigfile, else ~/.cache/bigfile. */
function cacheDir(env: Record<string, string | undefined>): string | undefined {
  if (env.BIGFILE_NO_CACHE) return undefined;
  const base = env.XDG_CACHE_HOME || (env.HOME ?? homedir());
  if (!base) return undefined;
  return env.XDG_CACHE_HOME ? join(base, "bigfile") : join(base, ".cache", "bigfile");
}

/** What the image depends on: the inputs' names, sizes and times. */
function cacheKey(
  grubDir: string,
  prefix: string,
  modules: readonly string[],
  mkimage: string,
): string {
  const parts: unknown[] = [grubDir, prefix, modules];
  for (const f of [
    join(grubDir, "kernel.img"),
    join(grubDir, "diskboot.img"),
    join(grubDir, "lzma_decompress.img"),
    join(grubDir, "moddep.lst"),
    ...modules.map((m) => join(grubDir, `${m}.mod`)),
    mkimage,
  ]) {
    const st = statSync(f);
    parts.push(f, st.size, st.mtimeMs, st.ino);
  }
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 32);
}

/**
 * core.img for `prefix` from the cache, else built with grub-mkimage (whose
 * path is `mkimage`) and cached. A cache that cannot be read or written is
 * passed by: the image is built as if there were none.
 */
export async function cachedCoreImage(
  grubDir: string,
  prefix: string,
  modules: readonly string[],
  mkimage: string,
  env: Record<string, string | undefined>,
): Promise<Uint8Array> {
  const dir = cacheDir(env);
  let path: string | undefined;
  try {
    if (dir) path = join(dir, `core-${cacheKey(grubDir, prefix, modules, mkimage)}.img`);
  } catch {
    path = undefined;
  }
  if (path) {
    try {
      return new Uint8Array(readFileSync(path));
    } catch {
      // Not cached yet.
    }
  }
  const core = await buildCoreImage(grubDir, { prefix, modules });
  if (dir && path) {
    try {
      mkdirSync(dir, { recursive: true });
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, core);
      renameSync(temp, path);
    } catch {
      // A read-only home: build it again next time.
    }
  }
  return core;
}
