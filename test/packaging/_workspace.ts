/**
 * The publishable packages of the workspace, read from their package.json
 * files: what the packaging tests pack, install and check.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, "../..");

/** What the packaging tests read from a package.json. */
export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  exports: Record<string, string | { types: string; default: string }>;
  bin?: Record<string, string>;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** A publishable package: its directory and its package.json. */
export interface WorkspacePackage {
  dir: string;
  json: PackageJson;
}

/** Every package under packages/ and apps/ that is not private. */
export function publishablePackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const group of ["packages", "apps"]) {
    for (const entry of readdirSync(join(ROOT, group), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(ROOT, group, entry.name);
      let json: PackageJson;
      try {
        json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
      } catch {
        continue;
      }
      if (!json.private) found.push({ dir, json });
    }
  }
  return found;
}

/** Subpaths that hold Node-specific code: every other subpath is core. */
export const NODE_SUBPATHS: ReadonlySet<string> = new Set(["./node", "./stdio", "./cli"]);

/** The library subpaths of a package (not `./package.json`). */
export function librarySubpaths(json: PackageJson): string[] {
  return Object.keys(json.exports).filter((subpath) => subpath !== "./package.json");
}

/** `@scope/name` + `./sub` -> `@scope/name/sub`. */
export function specifier(name: string, subpath: string): string {
  return subpath === "." ? name : `${name}/${subpath.slice(2)}`;
}
