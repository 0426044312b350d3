#!/bin/busybox sh
# /init of the bigfile test initramfs (built by build-fixtures.mjs).
#
# Loads the storage and ext4 modules, mounts the root filesystem, runs the
# checks the test put on it, writes a result file onto it, unmounts and powers
# off. Every step prints a marker line on the console (ttyS0) that the host
# matches in the serial log:
#
#   BIGFILE-INIT-START            /init is running
#   BIGFILE-NO-ROOT <dev>         the root device never appeared
#   BIGFILE-MOUNT-FAIL <dev>      mount failed
#   BIGFILE-MOUNTED <dev> <type>  the root is mounted
#   BIGFILE-MANIFEST-OK|FAIL      sha256sum -c bigfile-test/manifest.sha256
#   BIGFILE-CHECK-OK|FAIL rc=N    sh bigfile-test/check.sh <mountpoint>
#   BIGFILE-WROTE                 bigfile-test/guest-result.txt written
#   BIGFILE-UNMOUNTED             the root is unmounted cleanly
#   BIGFILE-DONE ok|fail          about to power off
#
# Kernel command line knobs (all optional):
#   bigfile.root=/dev/sda1  bigfile.fstype=ext3  bigfile.wait=20 (seconds)
#   bigfile.ro=1 (mount read-only, write nothing)
#   bigfile.init=/path (after mounting, switch to the root and run PATH as
#     init instead of the checks: scripts/demo.sh boots to a shell this way)

/bin/busybox mkdir -p /proc /sys /dev /mnt /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

echo "BIGFILE-INIT-START"

root=/dev/sda1
fstype=ext3
wait=20
ro=0
init=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    bigfile.root=*) root="${arg#bigfile.root=}" ;;
    bigfile.fstype=*) fstype="${arg#bigfile.fstype=}" ;;
    bigfile.wait=*) wait="${arg#bigfile.wait=}" ;;
    bigfile.ro=*) ro="${arg#bigfile.ro=}" ;;
    bigfile.init=*) init="${arg#bigfile.init=}" ;;
  esac
done

for m in $(cat /lib/modules/order); do
  insmod "/lib/modules/$m.ko" || echo "BIGFILE-INSMOD-FAIL $m"
done

finish() {
  sync
  echo "BIGFILE-DONE $1"
  poweroff -f
  sleep 10
}

i=0
while [ ! -b "$root" ] && [ "$i" -lt $((wait * 10)) ]; do
  sleep 0.1
  i=$((i + 1))
done
if [ ! -b "$root" ]; then
  echo "BIGFILE-NO-ROOT $root"
  finish fail
fi

if [ "$ro" = 1 ]; then opts=ro; else opts=rw; fi
if ! mount -t "$fstype" -o "$opts" "$root" /mnt; then
  echo "BIGFILE-MOUNT-FAIL $root"
  finish fail
fi
echo "BIGFILE-MOUNTED $root $fstype"

if [ -n "$init" ]; then
  echo "BIGFILE-SWITCH-ROOT $init"
  umount /proc /sys
  mount --move /dev /mnt/dev 2>/dev/null || umount /dev
  exec switch_root /mnt "$init"
fi

status=ok
manifest=none
check=none
if [ -f /mnt/bigfile-test/manifest.sha256 ]; then
  if (cd /mnt && sha256sum -c bigfile-test/manifest.sha256 >/tmp/manifest.log 2>&1); then
    manifest=ok
    echo "BIGFILE-MANIFEST-OK $(wc -l </mnt/bigfile-test/manifest.sha256) files"
  else
    manifest=fail
    status=fail
    grep -v ': OK$' /tmp/manifest.log | head -n 50
    echo "BIGFILE-MANIFEST-FAIL"
  fi
fi
if [ -f /mnt/bigfile-test/check.sh ]; then
  sh /mnt/bigfile-test/check.sh /mnt >/tmp/check.log 2>&1
  rc=$?
  head -c 20000 /tmp/check.log
  if [ "$rc" = 0 ]; then
    check=ok
    echo "BIGFILE-CHECK-OK rc=0"
  else
    check=fail
    status=fail
    echo "BIGFILE-CHECK-FAIL rc=$rc"
  fi
fi

if [ "$ro" != 1 ]; then
  mkdir -p /mnt/bigfile-test
  {
    echo "status=$status"
    echo "manifest=$manifest"
    echo "check=$check"
    echo "kernel=$(uname -r)"
    echo "root=$root"
  } >/mnt/bigfile-test/guest-result.txt
  if [ -f /tmp/check.log ]; then cp /tmp/check.log /mnt/bigfile-test/check.log; fi
  echo "BIGFILE-WROTE /bigfile-test/guest-result.txt"
fi

sync
if umount /mnt; then
  echo "BIGFILE-UNMOUNTED"
else
  mount -o remount,ro /mnt
  echo "BIGFILE-UMOUNT-FAIL"
  status=fail
fi
finish "$status"
