#!/usr/bin/env node
// Builds (or reuses) the real-system test fixtures in <repo>/.cache/fixtures:
//
//   kernel/vmlinuz, kernel/modules/*.ko, kernel/manifest.json
//       Debian's kernel: `apt-cache depends linux-image-amd64` names the
//       versioned package, `apt-get download` fetches that one .deb, `dpkg -x`
//       unpacks it; we keep vmlinuz and the few modules the initramfs needs.
//   initrd.img, initrd.json
//       busybox-static + those modules + scripts/initramfs-init.sh as /init,
//       packed with `cpio -o -H newc | gzip`. Rebuilt when its inputs change.
//   debian-bookworm-minbase/   (only when asked: --rootfs, or ensureDebianRoot())
//       `debootstrap --variant=minbase bookworm` from the configured apt mirror.
//
// Everything is built in a temporary directory and renamed into place, under a
// lock, so parallel test processes never see half a fixture.
//
// Usage: node test/scripts/build-fixtures.mjs [--boot] [--rootfs] [--force] [--json]
//   (no flag: --boot). Set BIGFILE_FIXTURES_DIR to use another cache directory.

import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileP = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** Bump when the layout of the fixtures changes, to rebuild old caches. */
export const FIXTURE_FORMAT = 1;

/** Modules loaded by /init, in this order (dependencies first). */
export const INITRAMFS_MODULES = [
  "crc16",
  "crc32c_generic",
  "libcrc32c",
  "mbcache",
  "jbd2",
  "ext4",
  "crct10dif_common",
  "crct10dif_generic",
  "crc-t10dif",
  "crc64",
  "crc64_rocksoft_generic",
  "crc64-rocksoft",
  "t10-pi",
  "scsi_common",
  "scsi_mod",
  "sd_mod",
  "libata",
  "ata_piix",
];

/** The repository root (two levels above this script). */
export const repoRoot = resolve(here, "..", "..");

/** The fixture cache directory. */
export function fixturesDir() {
  return process.env.BIGFILE_FIXTURES_DIR ?? join(repoRoot, ".cache", "fixtures");
}

function say(message) {
  process.stderr.write(`build-fixtures: ${message}\n`);
}

async function exists(path) {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readJson(path) {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch {
    return undefined;
  }
}

async function run(file, args, options = {}) {
  try {
    const { stdout } = await execFileP(file, args, { maxBuffer: 64 << 20, ...options });
    return stdout;
  } catch (error) {
    const stderr = String(error.stderr ?? "").trim();
    throw new Error(`${file} ${args.join(" ")} failed: ${stderr || error.message}`);
  }
}

/** Runs a shell pipeline, streaming its stderr to ours. */
function sh(script, cwd) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("bash", ["-o", "pipefail", "-c", script], {
      cwd,
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`Command failed (${code}): ${script}`)),
    );
  });
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/** Runs `fn` holding the directory lock `name` in the fixture cache. */
async function withLock(name, timeoutMs, fn) {
  const dir = fixturesDir();
  await mkdir(dir, { recursive: true });
  const lock = join(dir, `.lock-${name}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, "pid"), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      const pid = Number(await readFile(join(lock, "pid"), "utf8").catch(() => "0"));
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if ((pid > 0 && !isAlive(pid)) || (pid === 0 && age > 10_000)) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for fixture lock ${lock}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Replaces `target` with the finished directory `built` (atomic rename). */
async function install(built, target) {
  const old = `${target}.old-${process.pid}`;
  if (await exists(target)) await rename(target, old);
  await rename(built, target);
  await rm(old, { recursive: true, force: true });
}

// ---------------------------------------------------------------- kernel

async function kernelPackageName() {
  const query = async () => {
    const out = await run("apt-cache", ["depends", "linux-image-amd64"]).catch(() => "");
    return /Depends:\s*(linux-image-[0-9][^\s]*)/.exec(out)?.[1];
  };
  let name = await query();
  if (!name && process.getuid?.() === 0) {
    say("apt-cache does not know linux-image-amd64; running apt-get update");
    await run("apt-get", ["update"]);
    name = await query();
  }
  if (!name) {
    throw new Error(
      "Cannot find the Debian kernel package: `apt-cache depends linux-image-amd64` names none (run apt-get update)",
    );
  }
  return name;
}

/** Finds `lib/modules/VERSION/kernel/**\/NAME.ko*`, matching - and _ alike. */
async function findModules(kernelTree) {
  const found = new Map();
  const norm = (s) => s.replaceAll("-", "_");
  const walk = async (dir) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else {
        const m = /^(.*)\.ko(\.xz|\.zst|\.gz)?$/.exec(entry.name);
        if (m?.[1]) found.set(norm(m[1]), path);
      }
    }
  };
  await walk(kernelTree);
  return { get: (name) => found.get(norm(name)) };
}

/** The `depends=` list in a module's .modinfo. */
function moduleDepends(bytes) {
  const text = bytes.toString("latin1");
  const at = text.indexOf("\0depends=");
  if (at < 0) return [];
  const end = text.indexOf("\0", at + 1);
  const value = text.slice(at + "\0depends=".length, end);
  return value ? value.split(",").filter(Boolean) : [];
}

async function decompressModule(path) {
  if (path.endsWith(".xz"))
    return Buffer.from(await run("xz", ["-dc", path], { encoding: "buffer" }));
  if (path.endsWith(".zst"))
    return Buffer.from(await run("zstd", ["-dcq", path], { encoding: "buffer" }));
  if (path.endsWith(".gz"))
    return Buffer.from(await run("gzip", ["-dc", path], { encoding: "buffer" }));
  return readFile(path);
}

async function kernelValid(dir) {
  const manifest = await readJson(join(dir, "manifest.json"));
  if (manifest?.format !== FIXTURE_FORMAT) return undefined;
  for (const m of manifest.modules ?? []) {
    if (!(await exists(join(dir, "modules", `${m}.ko`)))) return undefined;
  }
  return (await exists(join(dir, "vmlinuz"))) ? manifest : undefined;
}

async function buildKernel(target) {
  let pkg = await kernelPackageName();
  const tmp = await mkdtemp(join(fixturesDir(), ".tmp-kernel-"));
  try {
    // apt drops privileges to _apt for downloads: let it write here.
    await chmod(tmp, 0o777);
    say(`downloading ${pkg} (apt-get download)`);
    try {
      await run("apt-get", ["download", "-q", pkg], { cwd: tmp });
    } catch (error) {
      // Stale package lists name a version the mirror no longer has: refresh once.
      if (process.getuid?.() !== 0) throw error;
      say(`${error.message.split("\n")[0]}; running apt-get update and retrying`);
      await run("apt-get", ["update", "-q"]);
      pkg = await kernelPackageName();
      await run("apt-get", ["download", "-q", pkg], { cwd: tmp });
    }
    const deb = (await readdir(tmp)).find((n) => n.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb`);
    const tree = join(tmp, "x");
    await run("dpkg", ["-x", join(tmp, deb), tree]);
    const boot = await readdir(join(tree, "boot"));
    const vmlinuz = boot.find((n) => n.startsWith("vmlinuz-"));
    if (!vmlinuz) throw new Error(`${deb} has no boot/vmlinuz-*`);
    const version = vmlinuz.slice("vmlinuz-".length);
    const out = join(tmp, "out");
    await mkdir(join(out, "modules"), { recursive: true });
    await copyFile(join(tree, "boot", vmlinuz), join(out, "vmlinuz"));
    const config = boot.find((n) => n.startsWith("config-"));
    if (config) await copyFile(join(tree, "boot", config), join(out, "config"));

    // Resolve the modules (and any dependency not already listed) in load order.
    const modules = await findModules(join(tree, "lib", "modules", version, "kernel"));
    const order = [];
    const loaded = new Set();
    const add = async (name, stack) => {
      const key = name.replaceAll("-", "_");
      if (loaded.has(key)) return;
      if (stack.includes(key)) throw new Error(`Module dependency loop at ${name}`);
      const path = modules.get(name);
      if (!path) throw new Error(`Module ${name} not found in ${deb}`);
      const bytes = await decompressModule(path);
      for (const dep of moduleDepends(bytes)) await add(dep, [...stack, key]);
      await writeFile(join(out, "modules", `${name}.ko`), bytes);
      loaded.add(key);
      order.push(name);
    };
    for (const name of INITRAMFS_MODULES) await add(name, []);

    const manifest = { format: FIXTURE_FORMAT, package: pkg, deb, version, modules: order };
    await writeFile(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    await install(out, target);
    say(`kernel ${version} ready (${order.length} modules)`);
    return manifest;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------- initramfs

async function findBusybox() {
  for (const path of ["/bin/busybox", "/usr/bin/busybox"]) {
    if (await exists(path)) return path;
  }
  throw new Error("busybox not found: apt-get install busybox-static");
}

/** True when the ELF file has no program interpreter (statically linked). */
async function isStaticElf(path) {
  const b = await readFile(path);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    if (b.readUInt32LE(phoff + i * phentsize) === 3) return false; // PT_INTERP
  }
  return true;
}

async function buildInitrd(kernelDir, manifest, target, stamp) {
  const busybox = await findBusybox();
  if (!(await isStaticElf(busybox))) {
    throw new Error(`${busybox} is dynamically linked: apt-get install busybox-static`);
  }
  const tmp = await mkdtemp(join(fixturesDir(), ".tmp-initrd-"));
  try {
    const root = join(tmp, "root");
    for (const d of ["bin", "dev", "proc", "sys", "mnt", "tmp", "lib/modules"]) {
      await mkdir(join(root, d), { recursive: true });
    }
    await copyFile(busybox, join(root, "bin", "busybox"));
    await chmod(join(root, "bin", "busybox"), 0o755);
    await copyFile(join(here, "initramfs-init.sh"), join(root, "init"));
    await chmod(join(root, "init"), 0o755);
    for (const m of manifest.modules) {
      await copyFile(
        join(kernelDir, "modules", `${m}.ko`),
        join(root, "lib", "modules", `${m}.ko`),
      );
    }
    await writeFile(join(root, "lib", "modules", "order"), `${manifest.modules.join("\n")}\n`);
    const out = join(tmp, "initrd.img");
    await sh(
      // Same inputs, same bytes: fixed times, sorted names, no gzip timestamp.
      `find . -exec touch -h -d @0 {} + && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet --reproducible -o -H newc -R 0:0 | gzip -9n > ${JSON.stringify(out)}`,
      root,
    );
    await rename(out, target);
    await writeFile(`${target}.json`, `${JSON.stringify(stamp, null, 2)}\n`);
    say(`initramfs ready (${(await stat(target)).size} bytes)`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function initrdStamp(manifest) {
  const hash = createHash("sha256");
  hash.update(await readFile(join(here, "initramfs-init.sh")));
  hash.update(await readFile(await findBusybox()));
  hash.update(JSON.stringify(manifest));
  return { format: FIXTURE_FORMAT, inputs: hash.digest("hex"), kernel: manifest.version };
}

/**
 * Makes sure the kernel and initramfs exist; builds what is missing.
 * @param {{ force?: boolean }} [options]
 * @returns {Promise<{ dir: string, vmlinuz: string, initrd: string, kernelVersion: string,
 *   kernelPackage: string, modules: string[] }>}
 */
export async function ensureBootFixtures(options = {}) {
  const dir = fixturesDir();
  return withLock("boot", 15 * 60_000, async () => {
    const kernelDir = join(dir, "kernel");
    let manifest = options.force ? undefined : await kernelValid(kernelDir);
    if (!manifest) manifest = await buildKernel(kernelDir);
    const initrd = join(dir, "initrd.img");
    const stamp = await initrdStamp(manifest);
    const old = await readJson(`${initrd}.json`);
    if (options.force || old?.inputs !== stamp.inputs || !(await exists(initrd))) {
      await buildInitrd(kernelDir, manifest, initrd, stamp);
    }
    return {
      dir,
      vmlinuz: join(kernelDir, "vmlinuz"),
      initrd,
      kernelVersion: manifest.version,
      kernelPackage: manifest.package,
      modules: manifest.modules,
    };
  });
}

// ------------------------------------------------------------ debian root

/** The apt mirror this machine uses for Debian (first deb.sources / sources.list URI). */
export async function debianMirror() {
  if (process.env.BIGFILE_DEBIAN_MIRROR) return process.env.BIGFILE_DEBIAN_MIRROR;
  const texts = [];
  for (const path of ["/etc/apt/sources.list"])
    texts.push(await readFile(path, "utf8").catch(() => ""));
  for (const name of await readdir("/etc/apt/sources.list.d").catch(() => [])) {
    if (name.endsWith(".sources") || name.endsWith(".list")) {
      texts.push(await readFile(join("/etc/apt/sources.list.d", name), "utf8").catch(() => ""));
    }
  }
  for (const text of texts) {
    for (const line of text.split("\n")) {
      const deb822 = /^URIs:\s*(\S+\/debian)\/?\s*$/.exec(line.trim());
      if (deb822?.[1]) return deb822[1];
      const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+/.exec(line.trim());
      if (oneLine?.[1]) return oneLine[1];
    }
  }
  return "http://deb.debian.org/debian";
}

/**
 * Makes sure the debootstrapped Debian root exists (about 25 s and 200 MB the
 * first time); returns its path.
 * @param {{ force?: boolean, suite?: string }} [options]
 * @returns {Promise<{ root: string, suite: string, mirror: string, entries: number }>}
 */
export async function ensureDebianRoot(options = {}) {
  const suite = options.suite ?? "bookworm";
  const dir = fixturesDir();
  const target = join(dir, `debian-${suite}-minbase`);
  const stampPath = `${target}.json`;
  return withLock(`rootfs-${suite}`, 20 * 60_000, async () => {
    const stamp = await readJson(stampPath);
    if (!options.force && stamp?.format === FIXTURE_FORMAT && (await exists(join(target, "etc")))) {
      return { root: target, suite, mirror: stamp.mirror, entries: stamp.entries };
    }
    if (process.getuid?.() !== 0) throw new Error("debootstrap needs root");
    const mirror = await debianMirror();
    const tmp = await mkdtemp(join(dir, ".tmp-rootfs-"));
    try {
      say(`debootstrap --variant=minbase ${suite} from ${mirror} (about half a minute)`);
      const root = join(tmp, "root");
      await sh(
        `debootstrap --variant=minbase ${suite} ${JSON.stringify(root)} ${JSON.stringify(mirror)} > ${JSON.stringify(join(tmp, "debootstrap.log"))} 2>&1 || { tail -n 30 ${JSON.stringify(join(tmp, "debootstrap.log"))} >&2; exit 1; }`,
      );
      // Keep the tree deterministic and small: no apt caches, no logs of this run.
      await rm(join(root, "var", "cache", "apt", "archives"), { recursive: true, force: true });
      await mkdir(join(root, "var", "cache", "apt", "archives", "partial"), { recursive: true });
      await rm(join(root, "debootstrap"), { recursive: true, force: true });
      const entries = Number(
        (await run("bash", ["-c", `find ${JSON.stringify(root)} | wc -l`])).trim(),
      );
      await rm(stampPath, { force: true });
      await install(root, target);
      await writeFile(
        stampPath,
        `${JSON.stringify({ format: FIXTURE_FORMAT, suite, mirror, entries }, null, 2)}\n`,
      );
      say(`Debian ${suite} minbase root ready (${entries} entries)`);
      return { root: target, suite, mirror, entries };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
}

// ------------------------------------------------------------------- CLI

async function cli(args) {
  const force = args.includes("--force");
  const wantRootfs = args.includes("--rootfs");
  const wantBoot = args.includes("--boot") || !wantRootfs;
  const result = {};
  const started = Date.now();
  if (wantBoot) result.boot = await ensureBootFixtures({ force });
  if (wantRootfs) result.rootfs = await ensureDebianRoot({ force });
  if (args.includes("--json")) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  say(`fixtures in ${fixturesDir()} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).catch((error) => {
    say(error.message);
    process.exitCode = 1;
  });
}
