#!/usr/bin/env node
// Keeps dist/ free of stale files: a module renamed or deleted in src/ must not
// linger in dist/ and end up in the published tarball.
//
//   node ../../scripts/clean-dist.mjs --before   (first step of a package's build)
//   node ../../scripts/clean-dist.mjs --after    (last step of the build)
//
// Rather than emptying dist/ first, which leaves every package that imports this
// one without its modules for the whole compile (other builds and test runs share
// this tree), --before marks the build's start and --after deletes every file the
// build did not write since then. Every step between the two must write its files
// afresh (tsc and esbuild rewrite all their outputs).
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

const dist = "dist";
// Markers live outside dist/, so that none can reach a tarball.
const markerDir = join("node_modules", ".clean-dist");
// Both steps run in the same shell of one build script, so the shell's pid keeps
// concurrent builds of the same package (other engineers, turbo) from sharing a marker.
const markerPrefix = ".build-start-";
const marker = join(markerDir, `${markerPrefix}${process.ppid}`);
const phase = process.argv[2];
mkdirSync(markerDir, { recursive: true });

if (phase === "--before") {
  // Markers of builds that failed before --after (no build takes ten minutes).
  for (const [path, start] of markers()) if (start < Date.now() - 600_000) rmSync(path);
  writeFileSync(marker, String(Date.now()));
} else if (phase === "--after") {
  const [used, start] = buildStart() ?? [];
  if (used === undefined || start === undefined) {
    console.error(
      "clean-dist: no build start marker, stale files are not pruned (run --before first)",
    );
    process.exit(1);
  }
  pruneOlderThan(dist, start);
  rmSync(used, { force: true });
} else {
  console.error("usage: clean-dist.mjs --before | --after");
  process.exit(2);
}

/** [path, start in ms] of every build start marker. */
function markers() {
  return readdirSync(markerDir)
    .filter((name) => name.startsWith(markerPrefix))
    .map((name) => [join(markerDir, name), Number(readFileSync(join(markerDir, name), "utf8"))]);
}

/**
 * [marker, start in ms] of this build. A shell that execs its last command gives
 * --after another parent pid: then the earliest marker, which prunes the least.
 */
function buildStart() {
  const all = markers();
  return all.find(([path]) => path === marker) ?? all.sort((a, b) => a[1] - b[1])[0];
}

/** Deletes files under dir last written before start (ms), then directories left empty. */
function pruneOlderThan(dir, start) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      pruneOlderThan(path, start);
      if (readdirSync(path).length === 0) rmdirSync(path);
    } else if (statSync(path).mtimeMs < start) {
      rmSync(path);
    }
  }
}
