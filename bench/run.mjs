#!/usr/bin/env node
// The benchmark suite: bigfile's tools against the ones users would pick
// instead, on the same inputs, in the same run, as ratios.
//
//   pnpm bench                       the full suite (about an hour on 2 cores): writes
//                                    bench/results/full.json, BENCHMARKS.md and bench/charts/*.svg
//   pnpm bench --quick               a smoke run of every comparison on small inputs (a minute or
//                                    two): bench/results/quick.json and bench/results/quick/
//   node bench/run.mjs --only populate,read   some groups (populate, image, filters, read, scaling, formats)
//   node bench/run.mjs --only formats --out bench/results/formats.json
//   node bench/report.mjs bench/results/full.json --merge bench/results/formats.json
//                                    a group's new rows in the full report, the others kept
//   node bench/run.mjs --only populate --match ext4   only the comparisons whose name matches
//                                    (merged by name: the group's other rows are kept)
//   node bench/run.mjs --rounds 3 --tmp /big/disk
//   node bench/report.mjs bench/results/full.json   rewrite BENCHMARKS.md from a JSON result
//
// `pnpm bench` builds the workspace first. The built command lines are copied
// into the scratch directory before anything is timed, so a rebuild by someone
// else during the run does not change what is measured. Inputs are generated
// from fixed seeds; scratch files (several GiB) are removed at the end, also on
// failure or Ctrl-C.
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { cpus, freemem, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { formatsSuite } from "./_formats.mjs";
import { compare, killRunning } from "./_measure.mjs";
import {
  filterSuite,
  imageSuite,
  plan,
  populateSuite,
  readSuite,
  scalingSuite,
} from "./_suites.mjs";
import { report } from "./report.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const GROUPS = {
  populate: populateSuite,
  image: imageSuite,
  filters: filterSuite,
  read: readSuite,
  scaling: scalingSuite,
  formats: formatsSuite,
};

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    match: { type: "string" },
    rounds: { type: "string" },
    warmup: { type: "string" },
    tmp: { type: "string" },
    out: { type: "string" },
    note: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(
    "usage: node bench/run.mjs [--quick] [--only GROUP,...] [--match REGEX] [--rounds N] [--warmup N] [--tmp DIR] [--out FILE.json] [--note TEXT]",
  );
  console.log(`groups: ${Object.keys(GROUPS).join(", ")}`);
  process.exit(0);
}
const only = values.only ? values.only.split(",") : Object.keys(GROUPS);
for (const g of only) {
  if (!GROUPS[g]) {
    console.error(`bench: unknown group '${g}' (groups: ${Object.keys(GROUPS).join(", ")})`);
    process.exit(2);
  }
}
const quick = values.quick;
const p = plan(quick);
if (values.rounds) p.rounds = Number(values.rounds);
if (values.warmup) p.warmup = Number(values.warmup);

// Where the inputs are: the same variables as the tests (test/harness/fixtures.ts).
const { BIGFILE_FIXTURES_DIR, BIGFILE_DEBIAN_ROOT, GRUB_DIR, BENCH_TMP } = process.env;
const fixturesDir = BIGFILE_FIXTURES_DIR ?? join(root, ".cache", "fixtures");
const fixtures = {
  root: BIGFILE_DEBIAN_ROOT ?? join(fixturesDir, "debian-bookworm-minbase"),
  kernel: join(fixturesDir, "kernel", "vmlinuz"),
  initrd: join(fixturesDir, "initrd.img"),
};
for (const [what, path] of Object.entries(fixtures)) {
  if (!existsSync(path)) {
    console.error(
      `bench: the ${what} fixture is missing at ${path}: run \`node test/scripts/build-fixtures.mjs --boot --rootfs\` (see test/harness/fixtures.ts)`,
    );
    process.exit(1);
  }
}
const have = (tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const grubDir = GRUB_DIR ?? "/usr/lib/grub/i386-pc";
for (const tool of [
  "mke2fs",
  "debugfs",
  "sfdisk",
  "grub-mkimage",
  "unshare",
  "/usr/bin/time",
  "timeout",
]) {
  if (!have(tool)) {
    console.error(
      `bench: ${tool} is missing: apt-get install -y e2fsprogs fdisk grub-pc-bin grub-common time`,
    );
    process.exit(1);
  }
}

const work = mkdtempSync(join(values.tmp ?? BENCH_TMP ?? tmpdir(), "bigfile-bench-"));
const cleanup = () => rmSync(work, { recursive: true, force: true });
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    killRunning();
    cleanup();
    process.exit(130);
  });
}

/** Copies a package's built command line (bin/, dist/) so a concurrent rebuild cannot touch it. */
function snapshot(pkgDir, name) {
  const dest = join(work, "bin", name);
  mkdirSync(dest, { recursive: true });
  cpSync(join(root, pkgDir, "bin"), join(dest, "bin"), { recursive: true });
  cpSync(join(root, pkgDir, "dist"), join(dest, "dist"), { recursive: true });
  cpSync(join(root, pkgDir, "package.json"), join(dest, "package.json"));
  symlinkSync(join(root, pkgDir, "node_modules"), join(dest, "node_modules"));
  const bin = join(dest, "bin", `${name}.js`);
  const r = spawnSync("node", [bin, "--version"], { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(
      `${pkgDir}: the built CLI does not start (run pnpm build): ${r.stderr.split("\n")[0]}`,
    );
  }
  return bin;
}

function version(argv, pattern = /(\d+\.\d+(\.\d+)?)/) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
  const text = `${r.stdout ?? ""}\n${r.stderr ?? ""}`;
  const line = text.split("\n").find((l) => pattern.test(l)) ?? "";
  return line.trim();
}

function machine() {
  const mem = totalmem();
  const git = (args) => {
    try {
      return execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
    } catch {
      return "";
    }
  };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "?",
    memoryGiB: +(mem / 2 ** 30).toFixed(1),
    freeGiB: +(freemem() / 2 ** 30).toFixed(1),
    kernel: release(),
    node: process.version,
    commit: git(["rev-parse", "--short", "HEAD"]),
    dirty: git(["status", "--porcelain", "--untracked-files=no"]) !== "",
    loadStart: loadavg().map((x) => +x.toFixed(2)),
    unsetEnv: Object.hasOwn(process.env, "NODE_EXTRA_CA_CERTS") ? ["NODE_EXTRA_CA_CERTS"] : [],
    filesystem: version(["df", "-hT", work], /\//).split(/\s+/).slice(0, 2).join(" "),
  };
}

/** Commands as a user would type them: the snapshots' paths become the CLI names. */
function shorten(text) {
  return String(text ?? "")
    .replace(new RegExp(`node ${work}/bin/([\\w-]+)/bin/[\\w-]+\\.js`, "g"), "$1")
    .replaceAll(`${work}/inputs`, "$INPUTS")
    .replaceAll(`${work}/scratch`, "$SCRATCH")
    .replaceAll(fixtures.root, "$DEBIAN_ROOT")
    .replaceAll(fixtures.kernel, "$KERNEL")
    .replaceAll(fixtures.initrd, "$INITRD");
}

// A run of some groups does not replace the full results: merge it into them
// with `node bench/report.mjs bench/results/full.json --merge OUT`.
const match = values.match ? new RegExp(values.match) : undefined;
const partialName =
  (values.only || match) && !quick
    ? `only-${only.join("-")}${match ? `-${values.match.replace(/\W+/g, "_")}` : ""}`
    : undefined;
const out =
  values.out ?? join(here, "results", `${partialName ?? (quick ? "quick" : "full")}.json`);
mkdirSync(dirname(out), { recursive: true });

const say = (text) => process.stderr.write(`${text}\n`);
const started = new Date();
const results = {
  quick,
  started: started.toISOString(),
  plan: p,
  note: values.note,
  comparisons: [],
};
try {
  say(`bench: ${quick ? "quick smoke run" : "full run"} in ${work}`);
  const bin = {
    ext3fs: snapshot("packages/ext3fs", "ext3fs"),
    mbr: snapshot("packages/mbr", "mbr"),
    grubMbr: snapshot("packages/grub-mbr", "grub-mbr"),
    blockdev: snapshot("packages/blockdev", "blockdev"),
    bigfile: snapshot("apps/bigfile", "bigfile"),
    vdisk: snapshot("packages/vdisk", "vdisk"),
  };
  const mke2fs = version(["mke2fs", "-V"], /mke2fs/);
  const [maj, min, pat] = (/(\d+)\.(\d+)\.?(\d+)?/.exec(mke2fs) ?? []).slice(1).map(Number);
  const versions = {
    mke2fs,
    mke2fsTar: maj > 1 || (maj === 1 && (min > 47 || (min === 47 && (pat ?? 0) >= 1))),
    genext2fs: have("genext2fs") ? version(["genext2fs", "--version"]) : "genext2fs not installed",
    sfdisk: version(["sfdisk", "--version"]),
    grub: version(["grub-mkimage", "--version"]),
    debugfs: version(["debugfs", "-V"], /debugfs/),
    coreutils: version(["cat", "--version"]),
    tar: version(["tar", "--version"]),
    bigfile: spawnSync("node", [bin.bigfile, "--version"], { encoding: "utf8" }).stdout.trim(),
    ext3fs: spawnSync("node", [bin.ext3fs, "--version"], { encoding: "utf8" }).stdout.trim(),
  };
  results.machine = machine();
  results.versions = versions;
  const scratch = join(work, "scratch");
  const inputs = join(work, "inputs");
  mkdirSync(scratch);
  mkdirSync(inputs);
  const ctx = {
    quick,
    plan: p,
    bin,
    fixtures,
    grubDir,
    versions,
    scratch,
    inputs,
    say,
    have: {
      genext2fs: have("genext2fs"),
      grubBiosSetup: existsSync(join(grubDir, "grub-bios-setup")),
    },
    /** Whether --match lets a comparison of this name run (suites skip making its inputs). */
    wants: (name) => !match || match.test(name),
    compare: async (comparison, o = {}) => {
      if (match && !match.test(comparison.name)) return { skipped: true, rows: [], ratios: [] };
      say(`${comparison.group}: ${comparison.name}`);
      const r = await compare(comparison, {
        rounds: o.rounds ?? p.rounds,
        warmup: o.warmup ?? p.warmup,
        timeout: p.timeout,
        scratch,
      });
      for (const row of r.rows) row.command = shorten(row.command);
      r.input = shorten(r.input);
      for (const row of r.rows) {
        say(
          `  ${row.label.padEnd(44)} ${row.error ? `FAILED ${row.error}` : `${row.seconds.toFixed(2)} s  peak ${(row.peakKiB / 1024).toFixed(0)} MiB`}`,
        );
      }
      for (const x of r.ratios)
        say(
          `  ratio ${x.a} / ${x.b}: ${x.median.toFixed(3)} (${x.min.toFixed(3)}-${x.max.toFixed(3)})`,
        );
      results.comparisons.push(r);
      // Saved after every comparison: a run cut short keeps what it measured.
      writeFileSync(out, `${JSON.stringify({ ...results, partial: true }, null, 2)}\n`);
      return r;
    },
  };
  for (const g of only) {
    try {
      await GROUPS[g](ctx);
    } catch (error) {
      say(`bench: group ${g} failed: ${error.stack ?? error}`);
      results.comparisons.push({
        group: g,
        name: `${g} (failed)`,
        error: String(error.message ?? error),
        rows: [],
        ratios: [],
      });
    }
  }
  results.finished = new Date().toISOString();
  results.machine.loadEnd = loadavg().map((x) => +x.toFixed(2));
  results.command = `pnpm bench${quick ? " --quick" : ""}${values.only ? ` --only ${values.only}` : ""}${match ? ` --match '${values.match}'` : ""}`;
  if (match) results.match = values.match;
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  say(`bench: results in ${out}`);
  const target = quick
    ? {
        markdown: join(here, "results", "quick", "BENCHMARKS.md"),
        charts: join(here, "results", "quick"),
      }
    : partialName
      ? {
          markdown: join(here, "results", partialName, "BENCHMARKS.md"),
          charts: join(here, "results", partialName),
        }
      : { markdown: join(root, "BENCHMARKS.md"), charts: join(here, "charts") };
  await report(results, target);
  say(`bench: report in ${target.markdown}, charts in ${target.charts}`);
} finally {
  cleanup();
}
