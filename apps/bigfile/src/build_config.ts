import { readFileSync } from "node:fs";
import { dirname, extname, isAbsolute, resolve } from "node:path";
import { parseSize } from "@bigfile/blockdev";
import { parse as parseToml } from "smol-toml";
import type { BuildOptions } from "./build_options.ts";

/** `bigfile build` settings a config file may hold: the long flags' names. */
export type BuildSettings = Omit<
  BuildOptions,
  "output" | "env" | "log" | "onProgress" | "rootfs" | "deviceTable"
> & {
  output?: string;
  rootfs?: string[];
  /** The device table's path (the command reads it). */
  deviceTable?: string;
};

/** A config file that cannot be used: names the file and the key. */
export class BuildConfigError extends SyntaxError {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`Cannot use config ${path}: ${message}`);
    this.name = "BuildConfigError";
    this.path = path;
  }
}

type Kind =
  | "size"
  | "size-or-auto"
  | "integer"
  | "number"
  | "string"
  | "path"
  | "paths"
  | "boolean"
  | "owner";

/** Every key, as the flag is spelled, with what it holds. */
const KEYS: Readonly<Record<string, readonly [keyof BuildSettings, Kind]>> = {
  output: ["output", "path"],
  size: ["size", "size-or-auto"],
  free: ["free", "size"],
  align: ["align", "string"],
  format: ["format", "string"],
  rootfs: ["rootfs", "paths"],
  kernel: ["kernel", "path"],
  initrd: ["initrd", "path"],
  cmdline: ["cmdline", "string"],
  "root-device": ["rootDevice", "string"],
  fs: ["fs", "string"],
  features: ["features", "string"],
  "block-size": ["blockSize", "integer"],
  "inode-size": ["inodeSize", "integer"],
  inodes: ["inodes", "integer"],
  "bytes-per-inode": ["bytesPerInode", "integer"],
  "reserved-percent": ["reservedPercent", "number"],
  label: ["label", "string"],
  uuid: ["uuid", "string"],
  "root-owner": ["rootOwner", "owner"],
  "squash-owners": ["squashOwners", "boolean"],
  "device-table": ["deviceTable", "path"],
  writer: ["writer", "string"],
  bootloader: ["bootloader", "string"],
  "grub-dir": ["grubDir", "path"],
  serial: ["serial", "boolean"],
  timeout: ["timeout", "integer"],
  title: ["title", "string"],
  seed: ["seed", "string"],
  threads: ["threads", "integer"],
  "temp-dir": ["tempDir", "path"],
};

/** The keys a config file may hold. */
export const BUILD_CONFIG_KEYS: readonly string[] = Object.keys(KEYS);

/**
 * Reads `bigfile build` settings from a TOML file (or JSON, by the `.json`
 * extension) whose keys are the long flags' names (`root-device`, `block-size`;
 * camelCase is accepted too). Paths are taken relative to the file's
 * directory; sizes may be numbers or text (`4G`, `8080632s`). An unknown key or
 * a value of the wrong kind is refused, naming the key.
 *
 * @example bigfile.toml
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFile } from "node:fs/promises";
 * import { resolve } from "node:path";
 * import { loadBuildConfig } from "@bigfile/bigfile";
 * await writeFile(
 *   "bigfile.toml",
 *   'size = "auto"\nrootfs = ["rootfs", "overlay.tar"]\nkernel = "vmlinuz"\nserial = true\n',
 * );
 * const settings = loadBuildConfig("bigfile.toml");
 * // paths are relative to the file's directory
 * assert.deepEqual(settings, {
 *   size: "auto",
 *   rootfs: [resolve("rootfs"), resolve("overlay.tar")],
 *   kernel: resolve("vmlinuz"),
 *   serial: true,
 * });
 * ```
 */
export function loadBuildConfig(path: string): BuildSettings {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BuildConfigError(path, code === "ENOENT" ? "no such file" : (error as Error).message);
  }
  let data: unknown;
  try {
    data = extname(path).toLowerCase() === ".json" ? JSON.parse(text) : parseToml(text);
  } catch (error) {
    const first = ((error as Error).message.split("\n")[0] ?? "").trim();
    throw new BuildConfigError(
      path,
      `not valid ${extname(path).toLowerCase() === ".json" ? "JSON" : "TOML"}: ${first}`,
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new BuildConfigError(path, "expected a table of settings");
  const base = dirname(resolve(path));
  const settings: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(data)) {
    const key = rawKey.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const spec = KEYS[key];
    if (!spec)
      throw new BuildConfigError(
        path,
        `unknown key '${rawKey}' (known: ${BUILD_CONFIG_KEYS.join(", ")})`,
      );
    const [name, kind] = spec;
    settings[name] = convert(path, rawKey, kind, value, base);
  }
  return settings as BuildSettings;
}

function convert(path: string, key: string, kind: Kind, value: unknown, base: string): unknown {
  const bad = (what: string) =>
    new BuildConfigError(path, `'${key}' must be ${what}, got ${JSON.stringify(value)}`);
  const absolute = (p: string) => (p === "-" || isAbsolute(p) ? p : resolve(base, p));
  switch (kind) {
    case "size":
    case "size-or-auto": {
      if (kind === "size-or-auto" && value === "auto") return "auto";
      if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value;
      if (typeof value === "string") {
        try {
          return parseSize(value);
        } catch {
          // Reported below.
        }
      }
      throw bad(
        kind === "size" ? "a size (bytes, 4G, 8080632s)" : "a size (bytes, 4G, 8080632s) or auto",
      );
    }
    case "integer":
      if (typeof value === "number" && Number.isSafeInteger(value)) return value;
      if (typeof value === "bigint") return Number(value);
      throw bad("a whole number");
    case "number":
      if (typeof value === "number" && Number.isFinite(value)) return value;
      throw bad("a number");
    case "string":
      if (typeof value === "string") return value;
      throw bad("text");
    case "path":
      if (typeof value === "string" && value !== "") return absolute(value);
      throw bad("a path");
    case "paths": {
      const list = typeof value === "string" ? [value] : value;
      if (Array.isArray(list) && list.every((v) => typeof v === "string" && v !== ""))
        return list.map(absolute);
      throw bad("a path or a list of paths");
    }
    case "boolean":
      if (typeof value === "boolean") return value;
      throw bad("true or false");
    case "owner": {
      const m = typeof value === "string" ? /^(\d+):(\d+)$/.exec(value) : null;
      if (m) return { uid: Number(m[1]), gid: Number(m[2]) };
      throw bad('"UID:GID" (numbers)');
    }
  }
}
