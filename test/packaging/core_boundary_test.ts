/**
 * The core of every package runs without Node: its export subpaths other than
 * `./node`, `./stdio` and `./cli` bundle for the browser without reaching a
 * Node built-in, and the lint rule that keeps it so bites inside
 * `packages/*\/src` but not in the Node-specific modules named by convention
 * (cli.ts, *_command.ts, node.ts, node/, stdio/, *_file.ts, file_*.ts,
 * _node_*.ts, tests) or listed in biome.json.
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { dirname, join } from "node:path";
import { build, type Plugin } from "esbuild";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TempDir, tempDir } from "../harness/temp_dir.ts";
import {
  librarySubpaths,
  NODE_SUBPATHS,
  type PackageJson,
  publishablePackages,
  ROOT,
  specifier,
} from "./_workspace.ts";

/** Node built-ins a bundle of `entry` for the browser reaches (recorded, left external). */
async function builtinsReached(entry: string): Promise<string[]> {
  const reached = new Set<string>();
  const recordBuiltins: Plugin = {
    name: "record-builtins",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!isBuiltin(args.path)) return undefined;
        reached.add(args.path.startsWith("node:") ? args.path : `node:${args.path}`);
        return { path: args.path, external: true };
      });
    },
  };
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    logLevel: "silent",
    plugins: [recordBuiltins],
  });
  return [...reached].sort();
}

/** The built file behind an export subpath. */
function entryFile(dir: string, json: PackageJson, subpath: string): string {
  const target = json.exports[subpath];
  return join(dir, typeof target === "string" ? target : (target?.default as string));
}

const packages = publishablePackages().filter((p) => p.json.name !== "@bigfile/bigfile");
/** The app's `.` is a Node library (`build`); its core is the one subpath listed here. */
const APP_CORE_SUBPATHS = ["./inspect"] as const;

describe("core subpaths bundle for the browser without Node built-ins", () => {
  for (const { dir, json } of packages) {
    for (const subpath of librarySubpaths(json).filter((s) => !NODE_SUBPATHS.has(s))) {
      it(specifier(json.name, subpath), async () => {
        expect(await builtinsReached(entryFile(dir, json, subpath))).toEqual([]);
      });
    }
  }

  const app = publishablePackages().find((p) => p.json.name === "@bigfile/bigfile");
  for (const subpath of APP_CORE_SUBPATHS) {
    it(`${specifier("@bigfile/bigfile", subpath)} (the app's core)`, async () => {
      if (!app) throw new Error("no @bigfile/bigfile in the workspace");
      expect(librarySubpaths(app.json)).toContain(subpath);
      expect(await builtinsReached(entryFile(app.dir, app.json, subpath))).toEqual([]);
    });
  }

  it("vdisk's zlib is Node's only behind ./node: its core injects codecs, its ./node reaches Node's", async () => {
    const vdisk = packages.find((p) => p.json.name === "@bigfile/vdisk");
    if (!vdisk) throw new Error("no @bigfile/vdisk in the workspace");
    expect(await builtinsReached(entryFile(vdisk.dir, vdisk.json, "."))).toEqual([]);
    // node:zlib is required on first use (createRequire from node:module), not imported.
    const node = await builtinsReached(entryFile(vdisk.dir, vdisk.json, "./node"));
    expect(node).toContain("node:module");
    expect(node).toContain("node:fs");
    // The system's zlib through the addon (a promise), or Node's (at once).
    const { nodeCodecs } = await import("@bigfile/vdisk/node");
    expect(
      (
        await (nodeCodecs.qcow2Deflate as (b: Uint8Array) => Promise<Uint8Array>)(
          new Uint8Array(4096),
        )
      ).length,
    ).toBeLessThan(100);
  });

  it("the check sees built-ins when they are there (blockdev's ./node reaches node:fs)", async () => {
    const blockdev = packages.find((p) => p.json.name === "@bigfile/blockdev");
    if (!blockdev) throw new Error("no @bigfile/blockdev in the workspace");
    expect(await builtinsReached(entryFile(blockdev.dir, blockdev.json, "./node"))).toContain(
      "node:fs",
    );
  });
});

describe("the lint rule for Node built-ins (biome.json, run on probe files)", () => {
  let tmp: TempDir;
  let diagnostics: string[];
  const nodeSource = 'import { readFileSync } from "node:fs";\nexport const read = readFileSync;\n';
  const probes: Record<string, string> = {
    // Inside the rule's scope: each must be reported.
    "packages/mbr/src/probe_node_import.ts": nodeSource,
    "packages/ext3fs/src/read/probe_bare_builtin.ts":
      'import { join } from "path";\nexport const j = join;\n',
    "packages/mbr/src/probe_node_subpath.ts":
      'import { FileDevice } from "@bigfile/blockdev/node";\nexport const d = FileDevice;\n',
    "packages/mbr/src/probe_commander.ts":
      'import { Command } from "commander";\nexport const c = Command;\n',
    "packages/mbr/src/probe_buffer.ts": "export const b = Buffer.alloc(1);\n",
    "packages/mbr/src/probe_process.ts": "export const argv = process.argv;\n",
    // A core file that only uses the platform: clean.
    "packages/mbr/src/probe_core.ts":
      'import { MemoryDevice } from "@bigfile/blockdev";\nexport const d = new MemoryDevice(new Uint8Array(512));\n',
    // Node-specific by name: clean.
    "packages/mbr/src/cli.ts": nodeSource,
    "packages/mbr/src/table_command.ts": nodeSource,
    "packages/mbr/src/node.ts": nodeSource,
    "packages/mbr/src/node/probe.ts": nodeSource,
    "packages/mbr/src/stdio/probe.ts": nodeSource,
    "packages/mbr/src/image_file.ts": nodeSource,
    "packages/mbr/src/file_probe.ts": nodeSource,
    "packages/mbr/src/_node_probe.ts": nodeSource,
    "packages/mbr/src/probe_test.ts": nodeSource,
    // Outside packages/*/src (apps, tests, scripts): not in the rule's scope.
    "apps/bigfile/src/probe.ts": nodeSource,
  };

  beforeAll(async () => {
    // A copy of the repository's biome.json in a scratch git repository, so
    // that probe files never appear in the shared working tree.
    tmp = await tempDir("lint-probe");
    await copyFile(join(ROOT, "biome.json"), join(tmp.path, "biome.json"));
    await execa("git", ["init", "-q"], { cwd: tmp.path });
    for (const [path, source] of Object.entries(probes)) {
      await mkdir(dirname(join(tmp.path, path)), { recursive: true });
      await writeFile(join(tmp.path, path), source);
    }
    const biome = join(ROOT, "node_modules/.bin/biome");
    const r = await execa(biome, ["lint", "--colors=off", "--max-diagnostics=none", "."], {
      cwd: tmp.path,
      reject: false,
    });
    diagnostics = `${r.stdout}\n${r.stderr}`
      .split("\n")
      .filter((line) => /^\S+:\d+:\d+ lint\//.test(line));
  });

  afterAll(() => tmp?.remove());

  const rulesFor = (path: string) =>
    diagnostics
      .filter((line) => line.startsWith(`${path}:`))
      .map((line) => (line.match(/lint\/\w+\/(\w+)/) as RegExpMatchArray)[1]);

  it.each([
    ["packages/mbr/src/probe_node_import.ts", "noNodejsModules"],
    ["packages/ext3fs/src/read/probe_bare_builtin.ts", "noNodejsModules"],
    ["packages/mbr/src/probe_node_subpath.ts", "noRestrictedImports"],
    ["packages/mbr/src/probe_commander.ts", "noRestrictedImports"],
    ["packages/mbr/src/probe_buffer.ts", "noRestrictedGlobals"],
    ["packages/mbr/src/probe_process.ts", "noRestrictedGlobals"],
  ])("reports %s in a core module (%s)", (path, rule) => {
    expect(rulesFor(path)).toContain(rule);
  });

  it.each(
    Object.keys(probes).filter(
      (path) => !path.includes("/probe_") || path.endsWith("probe_core.ts"),
    ),
  )("leaves %s alone", (path) => {
    expect(rulesFor(path)).toEqual([]);
  });
});
