#!/usr/bin/env bash
# The main job on a fresh machine (only Node and npm): install, build, and make
# the seed's big file — 4141875200 bytes, 255 heads/63 sectors/503 cylinders,
# an ext3 partition of exactly 4040316 KiB at byte 32256, GRUB in the MBR —
# without root, loop devices, fdisk, mkfs or grub-install.
#   bash scripts/demo.sh [OUT.img] [ROOTFS_DIR_OR_TAR...]
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM_VERSION="$(node -p 'require("./package.json").packageManager.split("@")[1]')"
command -v pnpm >/dev/null 2>&1 && [[ "$(pnpm --version)" == "$PNPM_VERSION" ]] || npm install -g "pnpm@$PNPM_VERSION" >/dev/null
pnpm install --frozen-lockfile >/dev/null
pnpm turbo run build --output-logs=errors-only >/dev/null

out="${1:-big.img}"
shift || true
tool() { node "packages/$1/bin/$1.js" "${@:2}"; }

sources=("$@")
if [[ ${#sources[@]} -eq 0 ]]; then
  demo_root="$(mktemp -d)"
  trap 'rm -rf "$demo_root"' EXIT
  mkdir -p "$demo_root/etc" "$demo_root/boot"
  echo bigfile > "$demo_root/etc/hostname"
  sources=("$demo_root")
fi

grub=(cat)
grub_dir="${GRUB_DIR:-/usr/lib/grub/i386-pc}"
if [[ -f "$grub_dir/boot.img" ]] && command -v grub-mkimage >/dev/null 2>&1; then
  tool grub-mbr files --serial > "$out.grub.tar"
  sources+=("$out.grub.tar")
  grub=(node packages/grub-mbr/bin/grub-mbr.js install)
else
  echo "note: GRUB's i386-pc files not found (apt-get install grub-pc-bin grub-common): no boot loader" >&2
fi

echo "==> $out: ext3fs mkfs | mbr wrap | grub-mbr install"
tool ext3fs mkfs "${sources[@]}" -t ext3 --blocks 4040316 \
  | tool mbr wrap --align cylinder --disk-size 4141875200 --bootable \
  | "${grub[@]}" > "$out"
rm -f "$out.grub.tar"

tool blockdev info "$out"
tool mbr print "$out" --units cylinders
tool ext3fs ls -l "$out" / --partition 1
