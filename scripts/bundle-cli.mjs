#!/usr/bin/env node
// Bundles a package's command line (dist/cli.js, its workspace dependencies and
// commander) into one file that bin/<name>.js loads: one file to read and
// compile instead of ~50 ES modules, which saves ~30 ms at every start (Node's
// ESM loader reads each module asynchronously). By default an ES module,
// dist/<name>.bundle.js, whose code a command loads on demand (`await
// import(...)`) stays in separate chunks; with --commonjs, for command lines
// that load nothing on demand, dist/<name>.bundle.cjs (see below).
//
//   node ../../scripts/bundle-cli.mjs [--commonjs] <name> [cli-kit module]
//     run in the package directory, after tsc; the CLI kit (the module that
//     exports runMain) defaults to @bigfile/cli-kit/node, a dependency of the package
import { readdirSync, rmSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { join } from "node:path";
import { build } from "esbuild";

const require = createRequire(import.meta.url);

const args = process.argv.slice(2);
const commonjs = args.includes("--commonjs");
const [name, kit = "@bigfile/cli-kit/node"] = args.filter((a) => a !== "--commonjs");
if (!name) {
  console.error("usage: bundle-cli.mjs [--commonjs] <command name> [cli-kit module]");
  process.exit(2);
}
// Chunks of earlier builds have other hashes: remove them, so dist holds only what the bundle loads.
for (const file of readdirSync("dist")) {
  if (file.startsWith(`${name}.chunk-`) || file.startsWith(`${name}.bundle.`))
    rmSync(join("dist", file));
}
/**
 * Node's built-in modules are taken with `require`, not `import`: an ES import
 * of a built-in builds a facade of all its exports, reading every one, and
 * some are getters that load more of Node (node:fs's ReadStream loads all of
 * Node's streams): ~5 ms at every start. A stand-in module requires the
 * built-in and exports its plain values, and of its getters only those the
 * bundle imports (`imported`, learnt from a first build's errors). commander
 * requires node:child_process when it loads (for subcommands that are
 * programs of their own, which no bigfile command line has), and with it net,
 * dgram and more: that one is loaded on first use.
 */
function builtinsByRequire(imported) {
  return {
    name: "builtins-by-require",
    setup(b) {
      b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
        /[\\/]commander[\\/]/.test(args.importer)
          ? { path: "child_process", namespace: "lazy-child-process" }
          : undefined,
      );
      b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
        const id = args.path.replace(/^node:/, "");
        if (!builtinModules.includes(id)) return undefined;
        return args.kind === "import-statement" && args.namespace !== "builtin"
          ? { path: `node:${id}`, namespace: "builtin" }
          : { path: `node:${id}`, external: true };
      });
      b.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => {
        const mod = require(args.path);
        const wanted = imported.get(args.path) ?? new Set();
        const names = Object.entries(Object.getOwnPropertyDescriptors(mod))
          .filter(([key]) => /^[A-Za-z_$][\w$]*$/.test(key) && key !== "default")
          .filter(([key, d]) => "value" in d || wanted.has(key))
          .map(([key]) => key);
        return {
          contents: [
            // The bundle's `require` (its banner's, or CommonJS's own).
            `const m = require(${JSON.stringify(args.path)});`,
            "export default m;",
            ...names.map((key) => `export const ${key} = m.${key};`),
          ].join("\n"),
          loader: "js",
        };
      });
      b.onLoad({ filter: /.*/, namespace: "lazy-child-process" }, () => ({
        contents:
          'let loaded;\nmodule.exports = new Proxy({}, { get: (_, name) => (loaded ??= require("node:child_process"))[name] });\n',
        loader: "js",
      }));
    },
  };
}

/**
 * Builds twice when the first build imports getters of built-ins by name:
 * the stand-ins then export those too.
 */
async function bundle(options) {
  const imported = new Map();
  try {
    return await build({ ...options, plugins: [builtinsByRequire(imported)], logLevel: "silent" });
  } catch (error) {
    for (const { text } of error.errors ?? []) {
      const miss = /^No matching export in "builtin:(node:[^"]+)" for import "([^"]+)"$/.exec(text);
      if (miss) imported.set(miss[1], (imported.get(miss[1]) ?? new Set()).add(miss[2]));
    }
  }
  // Again, with what was missing (or to print the errors that were not that).
  return build({ ...options, plugins: [builtinsByRequire(imported)], logLevel: "warning" });
}

const entry = {
  contents: `import { runMain } from "${kit}";\nimport { main } from "./dist/cli.js";\nrunMain(main);\n`,
  resolveDir: process.cwd(),
  sourcefile: `${name}-entry.js`,
};
const common = {
  stdin: entry,
  bundle: true,
  platform: "node",
  target: "node20",
};
if (commonjs) {
  // dist/<name>.bundle.cjs, which bin/<name>.js requires (bin/package.json
  // makes bin/ CommonJS): Node then starts no ES module loader, ~10 ms. For
  // command lines that load nothing on demand: CommonJS has no chunks, so
  // what a command imports lazily would be read and compiled at every start.
  await bundle({
    ...common,
    format: "cjs",
    outfile: `dist/${name}.bundle.cjs`,
    define: { "import.meta.url": "bundleUrl" },
    banner: { js: 'const bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
} else {
  await bundle({
    ...common,
    splitting: true,
    format: "esm",
    outdir: "dist",
    entryNames: `${name}.bundle`,
    chunkNames: `${name}.chunk-[hash]`,
    // commander is CommonJS: give the bundle a `require` for its Node built-ins.
    banner: {
      js: 'import { createRequire as bundleRequire } from "node:module";\nconst require = bundleRequire(import.meta.url);',
    },
  });
}
