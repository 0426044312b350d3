#!/usr/bin/env node
// Bundles a package's command line (dist/cli.js, its workspace dependencies and
// commander) into dist/<name>.bundle.js, which bin/<name>.js loads: one file to
// read and compile instead of ~50 ES modules, which saves ~30 ms at every start
// (Node's ESM loader reads each module asynchronously). Code that a command
// loads on demand (`await import(...)`) stays in separate chunks.
//
//   node ../../scripts/bundle-cli.mjs <name> [cli-kit module]
//     run in the package directory, after tsc; the CLI kit (the module that
//     exports runMain) defaults to @bigfile/cli-kit/node, a dependency of the package
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const [name, kit = "@bigfile/cli-kit/node"] = process.argv.slice(2);
if (!name) {
  console.error("usage: bundle-cli.mjs <command name> [cli-kit module]");
  process.exit(2);
}
// Chunks of earlier builds have other hashes: remove them, so dist holds only what the bundle loads.
for (const file of readdirSync("dist")) {
  if (file.startsWith(`${name}.chunk-`)) rmSync(join("dist", file));
}
/**
 * commander requires node:child_process when it loads (for subcommands that
 * are programs of their own, which no bigfile command line has), and with it
 * net, dgram and more: ~8 ms at every start. Its import is swapped for one
 * that loads the module on first use.
 */
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer)
        ? { path: "child_process", namespace: "lazy-child-process" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-child-process" }, () => ({
      contents:
        'let loaded;\nmodule.exports = new Proxy({}, { get: (_, name) => (loaded ??= require("node:child_process"))[name] });\n',
      loader: "js",
    }));
  },
};

await build({
  stdin: {
    contents: `import { runMain } from "${kit}";\nimport { main } from "./dist/cli.js";\nrunMain(main);\n`,
    resolveDir: process.cwd(),
    sourcefile: `${name}-entry.js`,
  },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir: "dist",
  entryNames: `${name}.bundle`,
  chunkNames: `${name}.chunk-[hash]`,
  // commander is CommonJS: give the bundle a `require` for its Node built-ins.
  banner: {
    js: 'import { createRequire as bundleRequire } from "node:module";\nconst require = bundleRequire(import.meta.url);',
  },
  plugins: [lazyChildProcess],
  logLevel: "warning",
});
