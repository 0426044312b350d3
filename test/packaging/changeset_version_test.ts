/**
 * Changesets produce the right release: `changeset version` runs on a copy of
 * the repository's `.changeset/` and package.json files in a scratch git
 * repository (the workspace's own @changesets/cli), and every package with a
 * pending changeset gets the bump it asks for, its dependents follow, and each
 * gets a CHANGELOG.md with its changesets' summaries. The real tree is not touched.
 */
import { createHash } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TempDir, tempDir } from "../harness/temp_dir.ts";
import { publishablePackages, ROOT } from "./_workspace.ts";

type Bump = "major" | "minor" | "patch";
const RANK: Record<Bump, number> = { patch: 1, minor: 2, major: 3 };

interface Changeset {
  file: string;
  bumps: Record<string, Bump>;
  summary: string;
}

/** The pending changesets: frontmatter of `"name": bump` lines, then the summary. */
async function pendingChangesets(dir: string): Promise<Changeset[]> {
  const sets: Changeset[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".md") && f !== "README.md")) {
    const text = await readFile(join(dir, file), "utf8");
    const match = text.match(/^---\n([\s\S]*?)\n---\n([\s\S]*)$/);
    if (!match) throw new Error(`${file}: no frontmatter`);
    const bumps: Record<string, Bump> = {};
    for (const line of (match[1] as string).split("\n").filter((l) => l.trim())) {
      const m = line.match(/^\s*["']?([^"':]+)["']?\s*:\s*(major|minor|patch)\s*$/);
      if (!m) throw new Error(`${file}: cannot read "${line}"`);
      bumps[m[1] as string] = m[2] as Bump;
    }
    sets.push({ file, bumps, summary: (match[2] as string).trim() });
  }
  return sets;
}

function bumped(version: string, bump: Bump): string {
  const [major, minor, patch] = version.split(".").map(Number) as [number, number, number];
  if (bump === "major") return `${major + 1}.0.0`;
  if (bump === "minor") return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

/** SHA-256 of every file changesets reads or writes in the real tree. */
async function fingerprint(files: string[]): Promise<Record<string, string>> {
  const sums: Record<string, string> = {};
  for (const file of files) {
    sums[file] = createHash("sha256")
      .update(await readFile(join(ROOT, file)))
      .digest("hex");
  }
  return sums;
}

const packages = publishablePackages();
let tmp: TempDir;
let changesets: Changeset[];
let inputs: string[];
let before: Record<string, string>;
/** Names of every workspace package, private ones too. */
let workspaceNames: Set<string>;
const versionOf = async (dir: string) =>
  JSON.parse(await readFile(join(tmp.path, dir, "package.json"), "utf8")) as {
    version: string;
    dependencies?: Record<string, string>;
  };
const relative = (dir: string) => dir.slice(ROOT.length + 1);

beforeAll(async () => {
  changesets = await pendingChangesets(join(ROOT, ".changeset"));
  const workspace = (await readFile(join(ROOT, "pnpm-workspace.yaml"), "utf8"))
    .split("\n")
    .map((l) => l.match(/^\s*-\s*"?([^"]+)"?\s*$/)?.[1])
    .filter((g): g is string => Boolean(g));
  // Every workspace package.json (private ones too: changesets reads them all).
  const manifests = ["package.json"];
  for (const glob of workspace) {
    if (!glob.endsWith("/*")) {
      manifests.push(`${glob}/package.json`);
      continue;
    }
    const group = glob.slice(0, -2);
    for (const entry of await readdir(join(ROOT, group), { withFileTypes: true })) {
      const manifest = `${group}/${entry.name}/package.json`;
      if (entry.isDirectory() && (await readFile(join(ROOT, manifest)).catch(() => undefined))) {
        manifests.push(manifest);
      }
    }
  }
  workspaceNames = new Set(
    await Promise.all(
      manifests
        .slice(1)
        .map(
          async (m) => (JSON.parse(await readFile(join(ROOT, m), "utf8")) as { name: string }).name,
        ),
    ),
  );
  inputs = [
    "pnpm-workspace.yaml",
    ...manifests,
    ...(await readdir(join(ROOT, ".changeset"))).map((f) => `.changeset/${f}`),
  ];
  before = await fingerprint(inputs);

  tmp = await tempDir("changeset");
  for (const file of inputs) {
    await mkdir(join(tmp.path, file, ".."), { recursive: true });
    await copyFile(join(ROOT, file), join(tmp.path, file));
  }
  // The changelog generator named in config.json resolves from the workspace's modules.
  await symlink(join(ROOT, "node_modules"), join(tmp.path, "node_modules"));
  const git = (...args: string[]) => execa("git", args, { cwd: tmp.path });
  await git("init", "-q", "-b", "main");
  await git("add", ".");
  await git("-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-qm", "x");
  const cli = join(ROOT, "node_modules/@changesets/cli/bin.js");
  await execa("node", [cli, "version"], { cwd: tmp.path });
}, 120_000);

afterAll(() => tmp?.remove());

describe(".changeset/config.json", () => {
  it("suits public scoped packages in a monorepo", async () => {
    const config = JSON.parse(await readFile(join(ROOT, ".changeset/config.json"), "utf8"));
    expect(config).toMatchObject({
      access: "public",
      baseBranch: "main",
      updateInternalDependencies: "patch",
      commit: false,
    });
    for (const { json } of packages) expect(config.ignore).not.toContain(json.name);
  });

  it("has pending changesets that name only workspace packages", () => {
    expect(changesets.length).toBeGreaterThan(0);
    for (const set of changesets) {
      for (const name of Object.keys(set.bumps)) expect(workspaceNames, set.file).toContain(name);
    }
  });
});

describe("changeset version", () => {
  it("bumps each package as its highest pending changeset asks", async () => {
    for (const { dir, json } of packages) {
      const asked = changesets
        .map((set) => set.bumps[json.name])
        .filter((b): b is Bump => Boolean(b))
        .sort((a, b) => RANK[b] - RANK[a])[0];
      if (!asked) continue;
      expect((await versionOf(relative(dir))).version, json.name).toBe(bumped(json.version, asked));
    }
  });

  it("bumps the dependents of a bumped package too", async () => {
    const changed = new Set<string>();
    for (const { dir, json } of packages) {
      if ((await versionOf(relative(dir))).version !== json.version) changed.add(json.name);
    }
    for (const { dir, json } of packages) {
      const deps = Object.keys(json.dependencies ?? {}).filter((d) => changed.has(d));
      if (deps.length === 0) continue;
      expect(changed, `${json.name} depends on ${deps.join(", ")}`).toContain(json.name);
      const changelog = await readFile(join(tmp.path, relative(dir), "CHANGELOG.md"), "utf8");
      expect(changelog).toContain("Updated dependencies");
    }
  });

  it("writes each package's CHANGELOG.md with the summaries of its changesets", async () => {
    for (const { dir, json } of packages) {
      const own = changesets.filter((set) => set.bumps[json.name]);
      if (own.length === 0) continue;
      const changelog = await readFile(join(tmp.path, relative(dir), "CHANGELOG.md"), "utf8");
      const version = (await versionOf(relative(dir))).version;
      expect(changelog).toMatch(
        new RegExp(`^# ${json.name}\\n\\n## ${version.replace(/\./g, "\\.")}\\n`),
      );
      for (const set of own) {
        const firstLine = set.summary.split("\n")[0] as string;
        expect(changelog, `${set.file} in ${json.name}`).toContain(firstLine);
      }
    }
  });

  it("consumes the changesets", async () => {
    const left = (await readdir(join(tmp.path, ".changeset"))).filter(
      (f) => f.endsWith(".md") && f !== "README.md",
    );
    expect(left).toEqual([]);
  });

  it("leaves the real tree untouched", async () => {
    expect(await fingerprint(inputs)).toEqual(before);
  });
});
