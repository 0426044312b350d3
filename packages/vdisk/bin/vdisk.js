#!/usr/bin/env node
// The bundled command line (scripts/bundle-cli.mjs): one file starts faster than many modules.
import "../dist/vdisk.bundle.js";
