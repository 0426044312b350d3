/**
 * Finds the kernel and initrd a root tree already carries (Debian's
 * /vmlinuz -> boot/vmlinuz-VERSION links, /boot/vmlinuz, Fedora's
 * initramfs-VERSION.img), looking only at `/` and `/boot` of each source.
 */
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { join, posix } from "node:path";
import { readTar } from "@bigfile/blockdev";
import { readFile } from "@bigfile/blockdev/node";

/** What a source holds at a path of interest. */
interface Entry {
  type: "file" | "symlink" | "other";
  target?: string;
}

/** A source as the finder sees it. */
export type BootSource = { kind: "directory" | "tar"; path: string } | { kind: "tar-stream" };

/** The kernel and initrd found, as absolute paths inside the image. */
export interface FoundBootFiles {
  kernel?: string;
  initrd?: string;
  /** A source could not be looked into (a tar stream): what was found may be incomplete. */
  unknown: boolean;
}

function interesting(path: string): boolean {
  return path === "vmlinuz" || path === "initrd.img" || /^boot\/[^/]+$/.test(path);
}

function entryOf(type: string, target: string | undefined): Entry {
  if (type === "file") return { type: "file" };
  if (type === "symlink") return target === undefined ? { type: "other" } : { type, target };
  return { type: "other" };
}

async function scanDirectory(root: string, into: Map<string, Entry>): Promise<void> {
  const look = (rel: string) => {
    try {
      const st = lstatSync(join(root, rel));
      const type = st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : "other";
      into.set(rel, entryOf(type, type === "symlink" ? readlinkSync(join(root, rel)) : undefined));
    } catch {
      // Not there.
    }
  };
  look("vmlinuz");
  look("initrd.img");
  try {
    if (!lstatSync(join(root, "boot")).isDirectory()) return;
    for (const name of readdirSync(join(root, "boot"))) look(`boot/${name}`);
  } catch {
    // No /boot.
  }
}

async function scanTar(path: string, into: Map<string, Entry>): Promise<void> {
  for await (const entry of readTar(readFile(path))) {
    const p = entry.path.replace(/\/+$/, "");
    if (interesting(p)) into.set(p, entryOf(entry.type, entry.linkname));
  }
}

/** Resolves symlinks among the entries seen (at most 8 hops); undefined when it leads nowhere known. */
function resolve(entries: Map<string, Entry>, path: string): string | undefined {
  let current = path;
  for (let hop = 0; hop < 8; hop++) {
    const e = entries.get(current);
    if (!e) return undefined;
    if (e.type === "file") return `/${current}`;
    if (e.type !== "symlink" || e.target === undefined) return undefined;
    const base = e.target.startsWith("/") ? "/" : `/${posix.dirname(current)}`;
    current = posix.normalize(posix.join(base, e.target)).replace(/^\/+/, "");
  }
  return undefined;
}

/** Compares version strings as `sort -V` roughly does: digit runs as numbers. */
function compareVersions(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    if (x === y) continue;
    if (/^\d+$/.test(x) && /^\d+$/.test(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * The kernel and initrd inside the sources laid over each other: /boot/vmlinuz
 * or /vmlinuz (links followed), else the newest /boot/vmlinuz-VERSION; the
 * initrd at /boot/initrd.img or /initrd.img, else the one of the kernel's
 * version (initrd.img-V, initramfs-V.img, initrd-V.img, initrd-V).
 */
export async function findBootFiles(sources: readonly BootSource[]): Promise<FoundBootFiles> {
  const entries = new Map<string, Entry>();
  const found: FoundBootFiles = { unknown: false };
  for (const s of sources) {
    if (s.kind === "tar-stream") {
      found.unknown = true;
      continue;
    }
    // A later source's entry replaces an earlier one's, as mkfs lays them over each other.
    const seen = new Map<string, Entry>();
    if (s.kind === "directory") await scanDirectory(s.path, seen);
    else await scanTar(s.path, seen);
    for (const [k, v] of seen) entries.set(k, v);
  }
  let kernel = resolve(entries, "boot/vmlinuz") ?? resolve(entries, "vmlinuz");
  if (!kernel) {
    const versions = [...entries.keys()]
      .filter((p) => /^boot\/vmlinuz-./.test(p) && resolve(entries, p))
      .sort((a, b) => compareVersions(a, b));
    const newest = versions.at(-1);
    if (newest) kernel = resolve(entries, newest);
  }
  if (kernel) found.kernel = kernel;
  let initrd = resolve(entries, "boot/initrd.img") ?? resolve(entries, "initrd.img");
  const version = kernel ? /\/vmlinuz-(.+)$/.exec(kernel)?.[1] : undefined;
  if (!initrd && version) {
    for (const name of [
      `initrd.img-${version}`,
      `initramfs-${version}.img`,
      `initrd-${version}.img`,
      `initrd-${version}`,
    ]) {
      initrd = resolve(entries, `boot/${name}`);
      if (initrd) break;
    }
  }
  if (initrd) found.initrd = initrd;
  return found;
}
