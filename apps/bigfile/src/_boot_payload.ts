/**
 * What bigfile adds to the root tree, as a tar stream mkfs lays over it last:
 * /boot/grub (GRUB's modules, grub.cfg, menu.lst), the kernel and initrd
 * given as files, and a minimal root when no tree was given. Directories the
 * tree already has are not listed, so their owners, modes and times stay.
 * Bodies stream from the host files.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type TarWriteEntry, writeTar } from "@bigfile/blockdev";
import { readFile } from "@bigfile/blockdev/node";

/** What {@linkcode bootPayload} holds. */
export interface BootPayloadOptions {
  /** Host files to put at /boot/vmlinuz and /boot/initrd.img. */
  kernel?: string | undefined;
  initrd?: string | undefined;
  /** GRUB's i386-pc directory: its *.mod and *.lst go to /boot/grub/i386-pc. */
  grubDir?: string | undefined;
  grubCfg: string;
  menuLst: string;
  /** Add the directories of a minimal root (no tree was given). */
  minimalRoot: boolean;
  /** Modification time of what bigfile writes, in seconds. */
  time: number;
}

const encoder = new TextEncoder();

/**
 * A host file as a member. Small ones (GRUB's ~300 modules) are read at once,
 * synchronously: a thread-pool round trip per stat, open, read and close cost
 * far more than the reads. Big ones (kernel, initrd) stream.
 */
function hostFile(from: string, path: string, mode?: number): TarWriteEntry {
  const st = statSync(from);
  const small = st.size <= 1 << 20;
  return {
    path,
    type: "file",
    mode: mode ?? st.mode & 0o777,
    uid: 0,
    gid: 0,
    mtime: Math.floor(st.mtimeMs / 1000),
    size: st.size,
    body: small ? new Uint8Array(readFileSync(from)) : readFile(from, { length: st.size }),
  };
}

/** The payload's members, in the order mkfs reads them. */
async function* members(o: BootPayloadOptions): AsyncGenerator<TarWriteEntry> {
  const mtime = o.time;
  const dir = (path: string, mode = 0o755): TarWriteEntry => ({
    path,
    type: "directory",
    mode,
    uid: 0,
    gid: 0,
    mtime,
  });
  const text = (path: string, body: string): TarWriteEntry => ({
    path,
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime,
    body: encoder.encode(body),
  });
  if (o.minimalRoot) {
    yield dir(".");
    for (const d of [
      "bin",
      "boot",
      "dev",
      "etc",
      "mnt",
      "proc",
      "run",
      "sbin",
      "sys",
      "usr",
      "var",
    ])
      yield dir(d);
    yield dir("root", 0o700);
    yield dir("tmp", 0o1777);
    yield text("etc/hostname", "bigfile\n");
    yield text("etc/fstab", "# <device> <mount point> <type> <options> <dump> <pass>\n");
  }
  if (o.kernel) yield hostFile(o.kernel, "boot/vmlinuz", 0o644);
  if (o.initrd) yield hostFile(o.initrd, "boot/initrd.img", 0o644);
  if (o.grubDir) {
    const names = readdirSync(o.grubDir)
      .filter((n) => n.endsWith(".mod") || n.endsWith(".lst"))
      .sort();
    for (const name of names)
      yield hostFile(join(o.grubDir, name), `boot/grub/i386-pc/${name}`, 0o644);
  }
  yield text("boot/grub/grub.cfg", o.grubCfg);
  yield text("boot/grub/menu.lst", o.menuLst);
}

/** The payload as a tar stream. */
export function bootPayload(options: BootPayloadOptions): AsyncGenerator<Uint8Array> {
  return writeTar(members(options));
}
