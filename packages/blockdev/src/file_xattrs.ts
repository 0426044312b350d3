import { nativeAddon } from "./_node_addon.ts";

/** One extended attribute of a file: its full name (`user.comment`) and value. */
export interface FileXattr {
  name: string;
  value: Uint8Array;
}

/**
 * Whether {@linkcode readXattrs} can ask the kernel (the native addon is
 * built with it, and `BIGFILE_NO_NATIVE` is not set to 1).
 *
 * @example Usage
 * ```ts
 * import { hasNativeXattrs } from "@bigfile/blockdev/node";
 * // true on Linux once the package was built with a C compiler
 * console.log(typeof hasNativeXattrs());
 * ```
 */
export function hasNativeXattrs(): boolean {
  if (process.env.BIGFILE_NO_NATIVE === "1") return false;
  return typeof nativeAddon()?.listXattrs === "function";
}

/**
 * The extended attributes of the file at `path`, without following a
 * symlink (llistxattr and lgetxattr, which Node has no binding for), in the
 * order the kernel lists them; `[]` on a filesystem without attributes.
 * Undefined when the addon is not available (no C compiler at build time,
 * another platform, `BIGFILE_NO_NATIVE=1`). A path that cannot be read
 * throws an `Error` whose `code` is the errno name (`ENOENT`, `EACCES`).
 *
 * @param path A path as text, or as bytes for names that are not UTF-8.
 * @returns The attributes, or undefined without the addon.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFileSync } from "node:fs";
 * import { readXattrs } from "@bigfile/blockdev/node";
 * writeFileSync("plain.txt", "no attributes\n");
 * const xattrs = readXattrs("plain.txt"); // [{ name: "user.comment", value }] after setfattr
 * assert.ok(xattrs === undefined || Array.isArray(xattrs));
 * ```
 */
export function readXattrs(path: string | Uint8Array): FileXattr[] | undefined {
  if (!hasNativeXattrs()) return undefined;
  const flat = nativeAddon()?.listXattrs?.(path) ?? [];
  const out: FileXattr[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.push({ name: flat[i] as string, value: new Uint8Array(flat[i + 1] as Uint8Array) });
  }
  return out;
}
