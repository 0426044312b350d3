#!/usr/bin/env node
// Compiles a package's native/*.c (a Node-API addon) with the system C
// compiler into dist/native/<platform>-<arch>/<name>.node, which ships in the
// package. No node-gyp, no download: the Node-API headers come with Node (or
// the distribution's nodejs-dev package). Never fails the build: without a
// compiler, headers or a library it prints one warning line, and the package
// does the same work without the addon (each says how).
//
//   node ../../scripts/build-native.mjs --name NAME --what TEXT --fallback TEXT [--lib z] SOURCE.c...
//
// Run from the package's directory (as pnpm runs a package's scripts).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: "string" },
    what: { type: "string" },
    fallback: { type: "string" },
    lib: { type: "string", multiple: true, default: [] },
  },
});
if (!values.name || !values.what || !values.fallback || positionals.length === 0) {
  console.error(
    "usage: build-native.mjs --name NAME --what TEXT --fallback TEXT [--lib LIB]... SOURCE.c...",
  );
  process.exit(2);
}
const here = process.cwd();
const pkg = basename(here);
const sources = positionals.map((file) => resolve(here, file));
const outDir = join(here, "dist", "native", `${process.platform}-${process.arch}`);
const target = join(outDir, `${values.name}.node`);
const warn = (why) => console.warn(`${pkg}: ${values.what} not built (${why}); ${values.fallback}`);

/** Where node_api.h is: beside this Node's prefix, then the usual system places. */
function includeDir() {
  const prefix = resolve(dirname(process.execPath), "..");
  const candidates = [
    process.env.NODE_INCLUDE_DIR,
    join(prefix, "include", "node"),
    process.config?.variables?.node_prefix &&
      join(process.config.variables.node_prefix, "include", "node"),
    "/usr/include/node",
    "/usr/local/include/node",
    "/opt/homebrew/include/node",
  ];
  return candidates.find((dir) => dir && existsSync(join(dir, "node_api.h")));
}

function build() {
  if (!["linux", "darwin", "freebsd"].includes(process.platform)) {
    return warn(`not built on ${process.platform}`);
  }
  const include = includeDir();
  if (!include) return warn("node_api.h not found; set NODE_INCLUDE_DIR");
  const cc = process.env.CC || "cc";
  mkdirSync(outDir, { recursive: true });
  // Written beside the target and renamed: a process loading the addon never sees half a file.
  const temp = `${target}.${process.pid}.tmp`;
  const args = [
    "-O2",
    "-shared",
    "-fPIC",
    "-pthread",
    "-Wall",
    `-I${include}`,
    "-o",
    temp,
    ...sources,
    ...values.lib.map((lib) => `-l${lib}`),
  ];
  // Node-API symbols are resolved from the node binary at load time.
  if (process.platform === "darwin") args.unshift("-undefined", "dynamic_lookup");
  const r = spawnSync(cc, args, { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    // An addon from an older source must not outlive a failed build.
    rmSync(temp, { force: true });
    rmSync(target, { force: true });
    const why = r.error
      ? `${cc}: ${r.error.code === "ENOENT" ? "no C compiler" : r.error.message}`
      : `${cc} failed: ${(r.stderr || "").trim().split("\n")[0]}`;
    return warn(why);
  }
  renameSync(temp, target);
}

build();
