#!/usr/bin/env bash
# The main job on a fresh machine (only Node and npm): install, build, and make
# the seed's big file without root or loop devices.
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM_VERSION="$(node -p 'require("./package.json").packageManager.split("@")[1]')"
command -v pnpm >/dev/null 2>&1 && [[ "$(pnpm --version)" == "$PNPM_VERSION" ]] || npm install -g "pnpm@$PNPM_VERSION" >/dev/null
pnpm install --frozen-lockfile >/dev/null
pnpm turbo run build --output-logs=errors-only >/dev/null
out="${1:-big.img}"
bd=packages/blockdev/bin/blockdev.js
echo "==> the seed's 4141875200-byte big file, sparse: $out"
node "$bd" create --force 4141875200 "$out"
node "$bd" info "$out"
