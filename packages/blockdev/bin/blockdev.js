#!/usr/bin/env node
// The bundled command line (scripts/bundle-cli.mjs --commonjs): one CommonJS file
// starts faster than many ES modules (bin/package.json makes this file CommonJS).
require("../dist/blockdev.bundle.cjs");
