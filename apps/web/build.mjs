#!/usr/bin/env node
// Builds the static page into dist/: src/main.ts bundled for the browser by
// esbuild (platform browser, nothing polyfilled), next to index.html and
// style.css. The build fails when the bundle would need anything it does not
// contain: a Node built-in reached from a core is an error, not a shim.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { build } from "esbuild";

// Core entries that still re-export Node-specific modules (issue 17's export-map
// work moves them out) make esbuild resolve Node built-ins and execa (mbr's
// filesystem-size probe) even though the page never calls them. They are left
// unresolved here so that tree shaking can drop them; the check below fails the
// build if any of them is still imported by the bundle the page runs.
const nodeOnly = ["execa", ...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
const result = await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "chrome120",
  outfile: "dist/main.js",
  sourcemap: true,
  metafile: true,
  external: nodeOnly,
  logLevel: "warning",
});
const reached = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
if (reached.length > 0) {
  console.error(
    `web build: the page's bundle imports ${[...new Set(reached)].join(", ")}, which a browser cannot load: a core module reaches a Node built-in`,
  );
  process.exit(1);
}
for (const file of ["index.html", "style.css"]) copyFileSync(`src/${file}`, `dist/${file}`);
