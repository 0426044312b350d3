/** Which bootloader dialect a menu file is written in. */
export type GrubMenuKind = "grub2" | "legacy";

/** One boot entry of a GRUB menu, as pygrub reads it. */
export interface GrubMenuEntry {
  /** The entry's title (`menuentry 'Title' {` or `title Title`). */
  title: string;
  /** The kernel's path inside the filesystem (a `(hd0,0)` device prefix removed), if the entry names one. */
  kernel?: string;
  /** The kernel's arguments: the rest of the `linux`/`kernel` line, "" when none. */
  args: string;
  /** The initrd's path inside the filesystem, if the entry names one. */
  initrd?: string;
  /** The entry's `root` (`set root=...` or `root (hd0,0)`), as written. */
  root?: string;
}

/** A parsed grub.cfg or menu.lst. */
export interface GrubMenu {
  kind: GrubMenuKind;
  /** The entry `default` picks (pygrub's reading: a number; anything else is 0). */
  default: number;
  /** `timeout`, in seconds, when the file sets one. */
  timeout?: number;
  entries: GrubMenuEntry[];
  /** Lines pygrub would ignore or misread, with their line numbers. */
  warnings: string[];
}

/** A bootloader configuration file pygrub looks for, in its order. */
export interface BootConfigPath {
  path: string;
  kind: GrubMenuKind;
}

/**
 * The configuration files pygrub (Xen 4.17) tries, in its order: GRUB 2's
 * grub.cfg first, then GRUB Legacy's menu.lst and grub.conf. (pygrub also
 * reads extlinux configurations between the two; bigfile does not.)
 */
export const BOOT_CONFIG_PATHS: readonly BootConfigPath[] = [
  { path: "/boot/grub/grub.cfg", kind: "grub2" },
  { path: "/grub/grub.cfg", kind: "grub2" },
  { path: "/boot/grub2/grub.cfg", kind: "grub2" },
  { path: "/grub2/grub.cfg", kind: "grub2" },
  { path: "/boot/grub/menu.lst", kind: "legacy" },
  { path: "/boot/grub/grub.conf", kind: "legacy" },
  { path: "/grub/menu.lst", kind: "legacy" },
  { path: "/grub/grub.conf", kind: "legacy" },
];

/** pygrub's grub_split(s, 1): at '=' when it comes before the first blank, else at blanks. */
function splitCommand(line: string): [string, string] {
  const eq = line.indexOf("=");
  let sp = line.indexOf(" ");
  const tab = line.indexOf("\t");
  if (tab !== -1 && (tab < sp || sp === -1)) sp = tab;
  if (eq !== -1 && (eq < sp || sp === -1)) return [line.slice(0, eq), line.slice(eq + 1)];
  const m = /^\s*(\S*)\s*([\s\S]*)$/.exec(line) as RegExpExecArray;
  return [m[1] as string, m[2] as string];
}

/** pygrub's grub2_handle_set: `set name=value` with one pair of quotes removed. */
function splitSet(arg: string): [string, string] {
  const [name, value] = splitCommand(arg);
  const quoted = /^(["'])(.*)\1/.exec(value);
  return [`set:${name}`, quoted ? (quoted[2] as string) : value];
}

/** A path without its GRUB device prefix: `(hd0,0)/boot/vmlinuz` -> `/boot/vmlinuz`. */
function stripDevice(value: string): string {
  if (!value.startsWith("(")) return value;
  const close = value.indexOf(")");
  if (close === -1) throw new SyntaxError(`Cannot parse the path '${value}': no matching ')'`);
  return value.slice(close + 1);
}

function setKernel(entry: GrubMenuEntry, value: string): void {
  if (!value.includes(" ")) {
    entry.kernel = stripDevice(value);
    entry.args = "";
    return;
  }
  const m = /^(\S+)\s+([\s\S]*)$/.exec(value) as RegExpExecArray;
  entry.kernel = stripDevice(m[1] as string);
  entry.args = m[2] as string;
}

const LEGACY_ENTRY: Record<string, "root" | "kernel" | "initrd"> = {
  root: "root",
  rootnoverify: "root",
  kernel: "kernel",
  initrd: "initrd",
};
const GRUB2_ENTRY: Record<string, "root" | "kernel" | "initrd"> = {
  "set:root": "root",
  linux: "kernel",
  linux16: "kernel",
  initrd: "initrd",
  initrd16: "initrd",
};

function entryLine(entry: GrubMenuEntry, line: string, kind: GrubMenuKind): void {
  let [command, arg] = splitCommand(line);
  if (kind === "grub2" && command === "set") [command, arg] = splitSet(arg);
  const field = (kind === "grub2" ? GRUB2_ENTRY : LEGACY_ENTRY)[command];
  const value = arg.trim();
  if (field === "kernel") setKernel(entry, value);
  else if (field === "initrd") entry.initrd = stripDevice(value);
  else if (field === "root") entry.root = value;
}

// pygrub reads these as entry 0 (GRUB's saved and one-shot entries).
const SAVED_DEFAULTS = new Set(["saved", "$" + "{saved_entry}", "$" + "{next_entry}"]);

function setDefault(menu: GrubMenu, value: string, where: string): void {
  if (SAVED_DEFAULTS.has(value)) {
    menu.default = 0;
    return;
  }
  if (!/^\s*[+-]?\d+\s*$/.test(value)) {
    menu.warnings.push(`${where}: default '${value}' is not a number; pygrub boots entry 0`);
    menu.default = 0;
    return;
  }
  const n = Number(value);
  if (n < 0) throw new SyntaxError(`Cannot parse the menu: ${where}: default ${n} is negative`);
  menu.default = n;
}

function setTimeout(menu: GrubMenu, value: string): void {
  if (/^\s*\d+\s*$/.test(value)) menu.timeout = Number(value);
}

function parseLegacy(lines: string[], menu: GrubMenu): void {
  let entry: GrubMenuEntry | undefined;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (line.startsWith("title")) {
      if (entry) menu.entries.push(entry);
      entry = { title: line.slice(6).trim(), args: "" };
      return;
    }
    if (entry) {
      entryLine(entry, line, "legacy");
      return;
    }
    const [command, arg] = splitCommand(line);
    if (command === "default") setDefault(menu, arg.trim(), `line ${i + 1}`);
    else if (command === "timeout") setTimeout(menu, arg.trim());
  });
  if (entry) menu.entries.push(entry);
}

function parseGrub2(lines: string[], menu: GrubMenu): void {
  let entry: GrubMenuEntry | undefined;
  let inFunction = false;
  let submenus = 0;
  lines.forEach((raw, i) => {
    const where = `line ${i + 1}`;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (line.startsWith("function")) {
      inFunction = true;
      return;
    }
    if (inFunction) {
      if (line.startsWith("}")) inFunction = false;
      return;
    }
    const title = /^menuentry ["'](.*?)["'] (.*)\{/.exec(line);
    if (title) {
      if (entry)
        throw new SyntaxError(`Cannot parse grub.cfg: ${where}: a menuentry inside another`);
      entry = { title: (title[1] as string).trim(), args: "" };
      return;
    }
    if (line.startsWith("menuentry")) {
      menu.warnings.push(
        `${where}: pygrub reads only "menuentry 'Title' ... {" with a quoted title and { on the line`,
      );
    }
    if (line.startsWith("submenu")) {
      submenus++;
      return;
    }
    if (line.startsWith("}")) {
      if (!entry) {
        if (submenus > 0) {
          submenus--;
          return;
        }
        throw new SyntaxError(`Cannot parse grub.cfg: ${where}: '}' closes no menuentry`);
      }
      menu.entries.push(entry);
      entry = undefined;
      return;
    }
    if (entry) {
      entryLine(entry, line, "grub2");
      return;
    }
    let [command, arg] = splitCommand(line);
    if (command === "set") [command, arg] = splitSet(arg);
    if (command === "set:default") setDefault(menu, arg.trim(), where);
    else if (command === "set:timeout") setTimeout(menu, arg.trim());
  });
  if (entry)
    throw new SyntaxError(`Cannot parse grub.cfg: the menuentry '${entry.title}' is not closed`);
}

/**
 * Parses a GRUB 2 grub.cfg or a GRUB Legacy menu.lst line by line, the way
 * Xen's pygrub reads them: `menuentry 'Title' {` (quoted title, `{` on the
 * line), `linux`/`linux16` (kernel, then arguments), `initrd`, `set
 * default=N`, submenus flattened, functions skipped, `$variables` not
 * expanded; or `default`, `timeout`, `title`, `root`, `kernel`, `initrd`.
 * Throws `SyntaxError` where pygrub gives up (nested or unclosed entries).
 *
 * @param text The file's contents.
 * @param kind `grub2` for grub.cfg, `legacy` for menu.lst or grub.conf.
 * @returns The entries, the default and what pygrub would stumble on.
 *
 * @example A grub.cfg
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGrubMenu } from "@bigfile/bigfile";
 * const menu = parseGrubMenu(
 *   "set default=0\nmenuentry 'Linux' {\n  linux /boot/vmlinuz root=/dev/sda1 ro\n  initrd /boot/initrd.img\n}\n",
 *   "grub2",
 * );
 * assert.deepEqual(
 *   { ...menu.entries[0] },
 *   { title: "Linux", kernel: "/boot/vmlinuz", args: "root=/dev/sda1 ro", initrd: "/boot/initrd.img" },
 * );
 * ```
 */
export function parseGrubMenu(text: string, kind: GrubMenuKind): GrubMenu {
  const menu: GrubMenu = { kind, default: 0, entries: [], warnings: [] };
  const lines = text.split("\n");
  if (kind === "grub2") parseGrub2(lines, menu);
  else parseLegacy(lines, menu);
  return menu;
}

/**
 * The index of the entry to boot: `entry` (a number, or a title) when given,
 * else the menu's default (pygrub falls back to entry 0 when the default is
 * past the end). Throws `RangeError` for an entry the menu does not have.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGrubMenu, pickMenuEntry } from "@bigfile/bigfile";
 * const menu = parseGrubMenu("title A\nkernel /a\ntitle B\nkernel /b\n", "legacy");
 * assert.equal(pickMenuEntry(menu), 0);
 * assert.equal(pickMenuEntry(menu, "B"), 1);
 * ```
 */
export function pickMenuEntry(menu: GrubMenu, entry?: number | string): number {
  const count = menu.entries.length;
  if (count === 0) throw new RangeError("the menu has no entries");
  if (entry === undefined) return menu.default < count ? menu.default : 0;
  const index =
    typeof entry === "number"
      ? entry
      : /^\d+$/.test(entry)
        ? Number(entry)
        : menu.entries.findIndex((e) => e.title === entry);
  if (Number.isInteger(index) && index >= 0 && index < count) return index;
  const list = menu.entries.map((e, i) => `${i} '${e.title}'`).join(", ");
  throw new RangeError(
    `no entry ${typeof entry === "number" ? entry : `'${entry}'`} (the menu has ${list})`,
  );
}
