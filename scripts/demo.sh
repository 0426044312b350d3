#!/usr/bin/env bash
# A VM booting from a big file, in one command, on a fresh machine (Node 20+ and
# npm; Debian's busybox-static, cpio and GRUB, installed here when run as root):
# builds the workspace, fetches a Debian kernel and makes a tiny initramfs (the
# test fixtures), lays a BusyBox root, runs `bigfile build` for the seed's big
# file (4141875200 bytes, 255 heads/63 sectors/503 cylinders, an ext3 partition
# of exactly 4040316 KiB at byte 32256, GRUB in the MBR) and prints the QEMU and
# Xen command lines for it. With --boot it boots the image in QEMU (software
# emulation, serial console on this terminal) to a shell prompt.
#
#   bash scripts/demo.sh [--boot] [OUT.img] [ROOTFS_DIR_OR_TAR...]
#
# ROOTFS trees are laid over the BusyBox root. Without root, no loop devices,
# fdisk, mkfs or grub-install are used at any step.
set -euo pipefail
cd "$(dirname "$0")/.."

boot=0
if [[ "${1:-}" == "--boot" ]]; then
  boot=1
  shift
fi
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
out="${1:-big.img}"
shift || true

say() { echo "==> $*" >&2; }

# Debian packages the demo needs: installed when we are root, named otherwise.
need=(busybox-static cpio grub-pc-bin grub-common)
[[ $boot == 1 ]] && need+=(qemu-system-x86)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "demo.sh: missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

PNPM_VERSION="$(node -p 'require("./package.json").packageManager.split("@")[1]')"
command -v pnpm >/dev/null 2>&1 && [[ "$(pnpm --version)" == "$PNPM_VERSION" ]] || npm install -g "pnpm@$PNPM_VERSION" >/dev/null
say "pnpm install, build"
pnpm install --frozen-lockfile >/dev/null
pnpm turbo run build --output-logs=errors-only >/dev/null
bigfile() { node apps/bigfile/bin/bigfile.js "$@"; }

say "a Debian kernel and a BusyBox initramfs (cached in .cache/fixtures)"
node test/scripts/build-fixtures.mjs --boot >&2
fixtures="${BIGFILE_FIXTURES_DIR:-.cache/fixtures}"
kernel="$fixtures/kernel/vmlinuz"
initrd="$fixtures/initrd.img"

# The BusyBox root: the initramfs mounts it and hands over to its init.
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
busybox="$(command -v busybox || echo /bin/busybox)"
mkdir -p "$root"/{bin,sbin,etc,dev,proc,sys,tmp,root,mnt,run}
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [[ "$applet" == busybox ]] || ln -s busybox "$root/bin/$applet"
done
echo bigfile >"$root/etc/hostname"
cat >"$root/etc/motd" <<'EOF'

  Booted from a big file made by `bigfile build`: GRUB -> Linux -> this
  BusyBox root on /dev/sda1 (ext3). Leave with `poweroff -f` (or Ctrl-A X).

EOF
cat >"$root/sbin/bigfile-demo-init" <<'EOF'
#!/bin/busybox sh
export PATH=/bin:/sbin HOME=/root PS1='bigfile:\w# '
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
hostname -F /etc/hostname
cat /etc/motd
cd /root
exec setsid cttyhack sh
EOF
chmod 755 "$root/sbin/bigfile-demo-init"

extra=()
for tree in "$@"; do extra+=(--rootfs "$tree"); done
say "$out: bigfile build (the seed's big file)"
bigfile build -o "$out" --size 4141875200 --align cylinder \
  --rootfs "$root" "${extra[@]}" \
  --kernel "$kernel" --initrd "$initrd" --serial \
  --cmdline "bigfile.init=/sbin/bigfile-demo-init loglevel=3"

echo
echo "Boot it in QEMU (serial console here; Ctrl-A X quits):"
echo "  $(bigfile vm-config "$out" --qemu)"
echo "Boot it under Xen (xl create demo.cfg), with pygrub reading its grub.cfg:"
bigfile vm-config "$out" --xen | sed 's/^/  /'
echo "Or run:  bash scripts/demo.sh --boot $out"

if [[ $boot == 1 ]]; then
  say "booting $out in QEMU (software emulation: about 10 s to the prompt)"
  mapfile -t argv < <(bigfile vm-config "$out" --qemu --no-reboot --json | node -e 'for (const a of JSON.parse(require("fs").readFileSync(0, "utf8")).argv) console.log(a)')
  exec "${argv[@]}"
fi
