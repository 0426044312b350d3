/**
 * Every publishable package stands alone: `pnpm pack` gives a tarball that
 * installs with npm into an empty directory (the tarballs of the dependency
 * closure together, since nothing is published yet; third-party dependencies
 * come from the npm registry), loads from there with only its declared
 * dependencies, exposes types for every export, and its command line runs.
 * One pack and one install, shared by every test of this file.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import { transform } from "esbuild";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2fsck } from "../harness/e2fsck.ts";
import { sfdiskJson } from "../harness/sfdisk.ts";
import { type TempDir, tempDir } from "../harness/temp_dir.ts";
import { haveTool } from "../harness/tools.ts";
import {
  librarySubpaths,
  NODE_SUBPATHS,
  publishablePackages,
  ROOT,
  specifier,
  type WorkspacePackage,
} from "./_workspace.ts";

const packages = publishablePackages();
let tmp: TempDir;
let project: string;
let tarballs: string[];

/**
 * The environment of a user's shell: without the npm_* variables pnpm sets
 * for its scripts (npm warns about pnpm's own settings) and without debugging.
 */
const userEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^(npm_|pnpm_|BIGFILE_)/i.test(key)),
);

/** Runs an installed bin the way a user would: `npx <bin> ...` in the project. */
function npx(bin: string, args: string[], input?: Buffer) {
  return execa("npx", ["--no", "--", bin, ...args], {
    cwd: project,
    reject: false,
    encoding: "buffer",
    stripFinalNewline: false,
    env: userEnv,
    extendEnv: false,
    ...(input ? { input } : { stdin: "ignore" }),
  });
}
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

beforeAll(async () => {
  tmp = await tempDir("pack");
  const tarDir = join(tmp.path, "tarballs");
  project = join(tmp.path, "project");
  await mkdir(project, { recursive: true });
  // Two at a time: the machine is small and each pack starts pnpm.
  for (let i = 0; i < packages.length; i += 2) {
    await Promise.all(
      packages
        .slice(i, i + 2)
        .map((p) => execa("pnpm", ["pack", "--pack-destination", tarDir], { cwd: p.dir })),
    );
  }
  tarballs = (await readdir(tarDir)).map((name) => join(tarDir, name));
  await writeFile(
    join(project, "package.json"),
    JSON.stringify({ name: "pack-install-probe", private: true, type: "module" }),
  );
  // The workspace's own version of @types/node, for the type check of the Node subpaths.
  const typesNode = JSON.parse(
    await readFile(join(ROOT, "node_modules/@types/node/package.json"), "utf8"),
  ) as { version: string };
  await execa(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--cache",
      join(ROOT, ".cache/npm"),
      ...tarballs,
      `@types/node@${typesNode.version}`,
    ],
    { cwd: project, env: userEnv, extendEnv: false },
  );
}, 600_000);

afterAll(() => tmp?.remove());

describe("the tarballs", () => {
  it("are one per publishable package, the app included", () => {
    expect(packages.map((p) => p.json.name)).toContain("@bigfile/bigfile");
    expect(tarballs).toHaveLength(packages.length);
  });

  it("hold only package.json, the README and what `files` names, with real versions, no workspace paths", async () => {
    for (const tarball of tarballs) {
      const { stdout } = await execa("tar", ["-tzf", tarball]);
      expect(stdout.split("\n"), tarball).toContain("package/README.md");
      for (const entry of stdout.split("\n")) {
        expect(entry, tarball).toMatch(
          /^package\/(package\.json|README\.md|LICENSE|dist\/.+|bin\/.+)$/,
        );
        expect(entry, tarball).not.toMatch(/_test\.|\/src\//);
      }
      const json = (await execa("tar", ["-xOzf", tarball, "package/package.json"])).stdout;
      expect(json, tarball).not.toContain("workspace:");
      // Nothing shipped points into this checkout.
      const contents = await execa("tar", ["-xOzf", tarball], { encoding: "buffer" });
      expect(Buffer.from(contents.stdout).includes(ROOT), tarball).toBe(false);
    }
  });
});

describe.each(packages.map((p) => [p.json.name, p] as const))(
  "%s installed from its tarball",
  (name, pkg) => {
    const installed = () => join(project, "node_modules", name);

    it("imports only Node built-ins, itself and its declared dependencies", async () => {
      const installedJson = JSON.parse(await readFile(join(installed(), "package.json"), "utf8"));
      const declared = new Set([
        ...Object.keys(installedJson.dependencies ?? {}),
        ...Object.keys(installedJson.peerDependencies ?? {}),
      ]);
      const undeclared = new Set<string>();
      const seen = new Set<string>();
      for (const file of await jsFiles(join(installed(), "dist"))) {
        for (const spec of await bareImports(file)) {
          seen.add(spec);
          const dep = packageOf(spec);
          if (isBuiltin(spec) || dep === name || declared.has(dep)) continue;
          undeclared.add(`${spec} (in ${file.slice(installed().length + 1)})`);
        }
      }
      expect([...undeclared]).toEqual([]);
      // The scan sees imports at all (each package imports commander or another @bigfile package).
      expect([...seen].filter((spec) => !isBuiltin(spec)).length).toBeGreaterThan(0);
      // And every declared dependency is there to be imported.
      for (const dep of declared) {
        const r = await execa(
          "node",
          ["--input-type=module", "-e", `await import.meta.resolve(${JSON.stringify(dep)})`],
          {
            cwd: installed(),
            reject: false,
          },
        );
        expect(r.stderr, dep).toBe("");
      }
    });

    it("ships source maps whose sources are inside them (src/ is not published)", async () => {
      const maps = (await jsFiles(join(installed(), "dist"), ".map")).slice(0, 400);
      expect(maps.length).toBeGreaterThan(0);
      for (const file of maps) {
        const map = JSON.parse(await readFile(file, "utf8")) as {
          sources: string[];
          sourcesContent?: (string | null)[];
        };
        const missing = map.sources.filter((_, i) => typeof map.sourcesContent?.[i] !== "string");
        expect(missing, file).toEqual([]);
      }
    });

    it("loads every export subpath from node_modules", async () => {
      const specs = librarySubpaths(pkg.json).map((s) => specifier(name, s));
      const script = `for (const s of ${JSON.stringify(specs)}) {
      const m = await import(s);
      if (Object.keys(m).length === 0) throw new Error(s + " exports nothing");
    }`;
      const r = await execa("node", ["--input-type=module", "-e", script], {
        cwd: project,
        reject: false,
      });
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
    });

    for (const bin of Object.keys(pkg.json.bin ?? {})) {
      it(`runs \`npx ${bin} --help\` and \`--version\``, async () => {
        const help = await npx(bin, ["--help"]);
        expect(text(help.stderr)).toBe("");
        expect(help.exitCode).toBe(0);
        expect(text(help.stdout)).toMatch(new RegExp(`^Usage: ${bin}`));
        const version = await npx(bin, ["--version"]);
        expect(text(version.stdout).trim()).toBe(pkg.json.version);
      });
    }
  },
);

describe("types of every export subpath", () => {
  it("check under TypeScript's nodenext resolution (skipLibCheck off)", async () => {
    await typeCheck("all", packages, () => true, { types: ["node"], lib: ["es2023"] });
  });

  it("need no Node types for the core subpaths (only the DOM's and ES2023's)", async () => {
    await typeCheck("core", packages, (subpath) => !NODE_SUBPATHS.has(subpath), {
      types: [],
      lib: ["es2023", "dom", "dom.iterable"],
    });
  });
});

describe("each command line, one real invocation from the installed tarball", () => {
  const work = () => join(project, "work");
  const tree = () => join(work(), "tree");
  const hostname = new TextEncoder().encode("packed\n");

  beforeAll(async () => {
    await mkdir(join(tree(), "etc"), { recursive: true });
    await writeFile(join(tree(), "etc/hostname"), hostname);
  });

  it("chs-geometry: the seed's disk is 503 cylinders of 8225280 bytes", async () => {
    const r = await npx("chs-geometry", ["4141875200", "--json"]);
    expect(text(r.stderr)).toBe("");
    expect(JSON.parse(text(r.stdout))).toMatchObject({ cylinders: 503, cylinderBytes: 8225280 });
  });

  it("ext3fs mkfs of a directory, e2fsck clean, then ls and cat", async () => {
    const image = join(work(), "fs.img");
    const mkfs = await npx("ext3fs", [
      "mkfs",
      tree(),
      "--size",
      "8M",
      "--seed",
      "packed",
      "-o",
      image,
    ]);
    expect(text(mkfs.stderr)).toMatch(/^ext3fs: ext3 8192 blocks/);
    expect(mkfs.exitCode).toBe(0);
    if (haveTool("e2fsck", "e2fsprogs")) expect((await e2fsck(image)).problems).toEqual([]);
    const ls = await npx("ext3fs", ["ls", image, "/etc"]);
    expect(text(ls.stdout)).toContain("hostname");
    const cat = await npx("ext3fs", ["cat", image, "/etc/hostname"]);
    expect(new Uint8Array(cat.stdout)).toEqual(hostname);
  });

  it("mbr wrap a partition into a disk; mbr print --json reads it as sfdisk does", async () => {
    const disk = join(work(), "disk.img");
    const partition = await readFile(join(work(), "fs.img"));
    const wrap = await npx(
      "mbr",
      ["wrap", "--align", "mib", "--label-id", "0x0badcafe"],
      partition,
    );
    expect(text(wrap.stderr)).toBe("");
    await writeFile(disk, wrap.stdout);
    const ours = JSON.parse(text((await npx("mbr", ["print", disk, "--json"])).stdout));
    expect(ours.partitiontable.partitions).toEqual([
      { node: `${disk}1`, start: 2048, size: 16384, type: "83" },
    ]);
    if (haveTool("sfdisk", "fdisk"))
      expect(ours.partitiontable).toEqual((await sfdiskJson(disk)).table);
  });

  it("blockdev info and grub-mbr inspect read the disk", async () => {
    const disk = join(work(), "disk.img");
    const info = JSON.parse(text((await npx("blockdev", ["info", disk, "--json"])).stdout));
    expect(info).toMatchObject({ bytes: 9437184, bootSignature: true });
    const grub = JSON.parse(text((await npx("grub-mbr", ["inspect", disk, "--json"])).stdout));
    expect(grub).toMatchObject({ bootSignature: true, bootCode: "none" });
  });

  it("vdisk convert to qcow2; vdisk info; qemu-img compare equal to the raw disk", async () => {
    const disk = join(work(), "disk.img");
    const qcow2 = join(work(), "disk.qcow2");
    const convert = await npx("vdisk", ["convert", "--to", "qcow2", disk, qcow2]);
    expect(text(convert.stderr)).toBe("");
    const info = JSON.parse(text((await npx("vdisk", ["info", qcow2, "--json"])).stdout));
    expect(info).toMatchObject({ format: "qcow2", virtualSize: 9437184 });
    if (haveTool("qemu-img", "qemu-utils")) {
      expect((await execa("qemu-img", ["check", qcow2], { reject: false })).exitCode).toBe(0);
      const compare = await execa(
        "qemu-img",
        ["compare", "-f", "raw", "-F", "qcow2", disk, qcow2],
        {
          reject: false,
        },
      );
      expect(compare.stdout).toContain("Images are identical");
    }
  });

  it("vdisk's command line loads its own addon and blockdev's from node_modules", async () => {
    // Each addon the workspace built is in its tarball, and the installed
    // bundle finds it (blockdev's from another package's directory).
    const platform = `${process.platform}-${process.arch}`;
    const addons = [
      ["blockdev", "data_regions"],
      ["vdisk", "deflate"],
    ].filter(([pkg, name]) =>
      existsSync(join(ROOT, "packages", pkg as string, "dist/native", platform, `${name}.node`)),
    );
    if (process.env.CI) expect(addons).toHaveLength(2);
    const raw = join(work(), "addons.img");
    await writeFile(raw, new Uint8Array(1 << 20).fill(7)); // a 1 MiB disk of data to compress
    const qcow2 = join(work(), "addons.qcow2");
    const r = await execa(
      "npx",
      ["--no", "--", "vdisk", "convert", "--to", "qcow2", "-c", raw, qcow2],
      { cwd: project, reject: false, env: { ...userEnv, NODE_DEBUG: "module" }, extendEnv: false },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    for (const [pkg, name] of addons) {
      const installedAddon = join(project, "node_modules/@bigfile", pkg as string, "dist/native");
      expect(r.stderr).toContain(`load "${join(installedAddon, platform, `${name}.node`)}"`);
    }
  });

  it("bigfile build of a tree without a boot loader; bigfile inspect agrees; e2fsck clean", async () => {
    const image = join(work(), "built.img");
    const build = await npx("bigfile", [
      "build",
      "--rootfs",
      tree(),
      "--bootloader",
      "none",
      "--size",
      "64M",
      "--seed",
      "packed",
      "-o",
      image,
    ]);
    expect(build.exitCode, text(build.stderr)).toBe(0);
    const inspect = await npx("bigfile", ["inspect", image, "--json"]);
    expect(inspect.exitCode, text(inspect.stderr)).toBe(0);
    const report = JSON.parse(text(inspect.stdout));
    expect(report.table.partitiontable.partitions[0]).toMatchObject({ start: 63, type: "83" });
    if (haveTool("e2fsck", "e2fsprogs")) {
      expect((await e2fsck(image, { offset: 32256 })).problems).toEqual([]);
    }
  });
});

/** Every .js file under dir. */
async function jsFiles(dir: string, suffix = ".js"): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => join(e.parentPath, e.name));
}

/** The bare specifiers a module imports (comments, where examples live, removed first). */
async function bareImports(file: string): Promise<string[]> {
  const { code } = await transform(await readFile(file, "utf8"), {
    format: "esm",
    minifyWhitespace: true,
    legalComments: "none",
  });
  const found = new Set<string>();
  const patterns = [
    /(?:import|export)[^"'`;]*?from\s*["']([^"']+)["']/g,
    /import\s*\(\s*["']([^"']+)["']\s*\)/g,
    /import\s*["']([^"']+)["']/g,
    /require\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) {
      const spec = match[1] as string;
      if (!/^[./#]/.test(spec)) found.add(spec);
    }
  }
  return [...found];
}

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
function packageOf(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

/** Type-checks a file importing the chosen subpaths of every package, with the workspace's tsc. */
async function typeCheck(
  name: string,
  all: WorkspacePackage[],
  include: (subpath: string) => boolean,
  options: { types: string[]; lib: string[] },
): Promise<void> {
  const lines: string[] = [];
  let n = 0;
  for (const { json } of all) {
    for (const subpath of librarySubpaths(json).filter(include)) {
      lines.push(`import * as m${n} from "${specifier(json.name, subpath)}";`);
      lines.push(`export const e${n} = Object.keys(m${n});`);
      n++;
    }
  }
  await writeFile(join(project, `${name}_exports.ts`), `${lines.join("\n")}\n`);
  await writeFile(
    join(project, `tsconfig.${name}.json`),
    JSON.stringify({
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        ...options,
      },
      files: [`${name}_exports.ts`],
    }),
  );
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  const r = await execa("node", [tsc, "-p", `tsconfig.${name}.json`], {
    cwd: project,
    reject: false,
  });
  expect(r.stdout).toBe("");
  expect(r.exitCode).toBe(0);
}
