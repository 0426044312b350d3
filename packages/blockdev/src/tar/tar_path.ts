/**
 * Normalises a member path as {@linkcode readTar} reports it: `\` is kept
 * (it is a valid file name byte), empty and `.` components are dropped (so
 * `./a//b/` becomes `a/b`), and the archive root (`.`, `./`) becomes `"."`.
 * A leading `/` and `..` components are kept, so that
 * {@linkcode tarPathProblem} can still see them.
 *
 * @example Usage
 * ```ts
 * import { normalizeTarPath } from "@bigfile/blockdev";
 * normalizeTarPath("./boot//grub/"); // "boot/grub"
 * ```
 */
export function normalizeTarPath(path: string): string {
  const absolute = path.startsWith("/");
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  const joined = parts.join("/");
  if (absolute) return `/${joined}`;
  return joined === "" ? "." : joined;
}

/**
 * Why a member path is unsafe to extract, or `undefined` when it is safe:
 * absolute paths and paths with a `..` component could write outside the
 * target directory; a NUL byte cannot be a file name.
 *
 * @example Usage
 * ```ts
 * import { tarPathProblem } from "@bigfile/blockdev";
 * tarPathProblem("../etc/passwd"); // "it has a '..' component"
 * tarPathProblem("etc/passwd"); // undefined
 * ```
 */
export function tarPathProblem(path: string): string | undefined {
  if (path === "") return "it is empty";
  if (path.includes("\0")) return "it contains a NUL byte";
  if (path.startsWith("/")) return "it is absolute";
  if (path.split("/").includes("..")) return "it has a '..' component";
  return undefined;
}
