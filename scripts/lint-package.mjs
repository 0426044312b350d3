#!/usr/bin/env node
// Lints the package in the current directory as it would be published:
// publint checks package.json against the packed files (exports, files, bin),
// and @arethetypeswrong/cli checks that every export's types resolve.
//
// attw runs with `--profile esm-only`: every @bigfile package is ESM only
// ("type": "module", no "require" condition) for Node >= 20.6 and bundlers, so
// the node10 and CommonJS-require resolutions it would otherwise report are not
// supported targets (CommonJS callers use `await import()`, Node 22 require(esm)).
// Any problem under node16-from-ESM or bundler resolution still fails.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// The tools are devDependencies of the workspace root, not of each package.
const bin = (name) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));
const run = (command, args) => execFileSync(bin(command), args, { stdio: "inherit" });
try {
  run("publint", ["--strict"]);
  run("attw", ["--pack", ".", "--profile", "esm-only", "--format", "table-flipped"]);
} catch {
  // The tool printed what is wrong; exit non-zero without a stack trace.
  process.exitCode = 1;
}
