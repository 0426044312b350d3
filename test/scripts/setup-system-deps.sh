#!/usr/bin/env bash
# Installs the Debian packages the real-system test tier needs (QEMU, GRUB,
# pygrub, busybox, e2fsprogs, ...). Quick and quiet when all are installed
# (checked with dpkg -s; no apt-get update then). Without root it prints one
# loud line naming the missing packages and exits 0: the tests then skip
# (outside CI) or fail (in CI) with the same names.
#
# Usage: bash test/scripts/setup-system-deps.sh
set -euo pipefail

packages=(
  qemu-system-x86 # qemu-system-x86_64
  qemu-utils      # qemu-img: vdisk's oracle (check, compare, info, convert)
  grub-pc-bin     # /usr/lib/grub/i386-pc (boot.img, modules, grub-bios-setup)
  grub-common     # grub-mkimage
  xen-utils-4.17  # pygrub
  busybox-static  # the test initramfs
  cpio            # packing the initramfs
  fdisk           # sfdisk
  e2fsprogs       # mke2fs e2fsck debugfs dumpe2fs
  dosfstools      # mkfs.vfat fsck.fat: mbr's filesystem-size probe
  xfsprogs        # mkfs.xfs xfs_db: mbr's filesystem-size probe
  btrfs-progs     # mkfs.btrfs btrfs: mbr's filesystem-size probe
  squashfs-tools  # mksquashfs unsquashfs: mbr's filesystem-size probe
  libvirt-clients # virt-xml-validate (bigfile vm-config --libvirt)
  libxml2-utils   # xmllint, which virt-xml-validate runs
  genext2fs       # benchmarks
  debootstrap     # the Debian root fixture
  bsdutils        # script (pygrub needs a pseudo-terminal)
  util-linux      # unshare (grub-bios-setup without a loop device)
  python3         # sockets in test trees, xattrs in tar tests
  tar             # GNU tar: the tar codec's interop tests
  libcap2-bin     # setcap/getcap: ext3fs reader keeps file capabilities
  attr            # setfattr/getfattr: ext3fs mkfs stores xattrs from GNU tar --xattrs
  gcc             # blockdev's native addon (lseek SEEK_DATA): cc -shared at build time
  libc6-dev       # the C headers gcc compiles that addon against
  zlib1g-dev      # zlib.h: vdisk's native deflate (the system's zlib, as qemu-img's, for qcow2 -c)
  chromium        # headless browser: apps/web's page test (driven by playwright-core)
  gzip
  xz-utils
  zstd            # kernel modules may be compressed
  dpkg
  apt
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup-system-deps: all ${#packages[@]} Debian packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system-deps: NOT ROOT — cannot install: ${missing[*]} (run: sudo apt-get install ${missing[*]}); the real-system tier will skip (or fail in CI)" >&2
  exit 0
fi

echo "setup-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
