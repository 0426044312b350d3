import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Loads a package's Node-API addon, built by the repository's
 * `scripts/build-native.mjs` into `dist/native/<platform>-<arch>/<name>.node`;
 * null where there is none for this platform (callers then use their
 * JavaScript path). `from` is the calling module's `import.meta.url`.
 *
 * Looked for beside that module (the package's own `dist/`), then in the
 * `node_modules/<packageName>/dist` of each directory above it (where a
 * command-line bundle of another package finds it), then wherever Node
 * resolves the package. The first two are a few `stat`s; resolving the
 * package reads and matches its `exports`, ~5 ms at a command's start.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadNativeAddon } from "@bigfile/blockdev/node";
 * const addon = loadNativeAddon(import.meta.url, "@bigfile/blockdev", "data_regions") as {
 *   dataRegions(fd: number, start: number, end: number): number[];
 * } | null;
 * assert.ok(addon === null || typeof addon.dataRegions === "function");
 * ```
 */
export function loadNativeAddon(from: string | URL, packageName: string, name: string): unknown {
  const file = join("dist", "native", `${process.platform}-${process.arch}`, `${name}.node`);
  const require = createRequire(from);
  for (const path of addonPlaces(from, require, packageName, file)) {
    let found: string | undefined;
    try {
      found = path();
    } catch {
      continue; // the package does not resolve from here
    }
    if (found === undefined || !existsSync(found)) continue;
    try {
      return require(found);
    } catch {} // there, but not loadable here (another libc, a damaged build)
  }
  return null;
}

/** Where to look, cheapest first. */
function* addonPlaces(
  from: string | URL,
  require: NodeJS.Require,
  packageName: string,
  file: string,
): Generator<() => string | undefined> {
  const here = dirname(fileURLToPath(from));
  // dist/<module>.js -> dist/native/...: the module is the package's own.
  yield () => join(here, "..", file);
  for (let dir = here; ; dir = dirname(dir)) {
    yield () => join(dir, "node_modules", packageName, file);
    if (dirname(dir) === dir) break;
  }
  yield () => join(dirname(require.resolve(`${packageName}/package.json`)), file);
}
