#!/usr/bin/env node
// Builds the static page into dist/: src/main.ts bundled for the browser by
// esbuild, next to index.html and style.css. Platform browser, nothing
// external, nothing polyfilled: a Node built-in reached from any core module
// the page imports fails the build ("Could not resolve node:..."), so what
// builds is what runs in a browser.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
try {
  await build({
    entryPoints: ["src/main.ts"],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "chrome120",
    outfile: "dist/main.js",
    sourcemap: true,
    logLevel: "warning",
  });
} catch {
  // esbuild has printed the errors with their locations.
  process.exit(1);
}
for (const file of ["index.html", "style.css"]) copyFileSync(`src/${file}`, `dist/${file}`);
