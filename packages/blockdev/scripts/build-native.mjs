#!/usr/bin/env node
// Compiles native/*.c (a Node-API addon: lseek SEEK_DATA/SEEK_HOLE, xattrs,
// copy_file_range, zero scans)
// with the system C compiler into dist/native/<platform>-<arch>/, which ships
// in the package. No node-gyp, no download: the Node-API headers come with
// Node (or the distribution's nodejs-dev package). Never fails the build:
// without a compiler or headers it prints one warning line, and the package
// reads holes the slow way (src/data_regions.ts).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sources = ["data_regions.c", "file_ranges.c"].map((file) => join(here, "native", file));
const outDir = join(here, "dist", "native", `${process.platform}-${process.arch}`);
const target = join(outDir, "data_regions.node");
const warn = (why) =>
  console.warn(
    `blockdev: native data-regions addon not built (${why}); holes will be found by reading zeros instead`,
  );

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
    return warn(`no SEEK_DATA on ${process.platform}`);
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
