#!/usr/bin/env node
// Profiles one of our command lines with V8's sampling profiler and prints
// where the time goes: self time by function (with file:line), and total time
// by package. Also counts the process's system calls with strace -c when
// strace is installed. Used to explain the worst ratio in BENCHMARKS.md.
//
//   node bench/profile.mjs [--stdin FILE] [--stdout FILE] -- packages/ext3fs/bin/ext3fs.js ls -l img /flat
//   node bench/profile.mjs --top 30 --pipe --stdin disk.img -- packages/grub-mbr/bin/grub-mbr.js install
//     (--pipe: standard input comes from `cat FILE |`, as in the benchmark)
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    stdin: { type: "string" },
    stdout: { type: "string", default: "/dev/null" },
    top: { type: "string", default: "25" },
    strace: { type: "boolean", default: true },
    pipe: { type: "boolean", default: false },
  },
});
if (positionals.length === 0) {
  console.error(
    "usage: node bench/profile.mjs [--stdin FILE] [--stdout FILE] [--top N] -- BIN.js ARGS...",
  );
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "bigfile-profile-"));
const stdio = () => [
  values.stdin ? openSync(values.stdin, "r") : "ignore",
  openSync(values.stdout, "w"),
  "inherit",
];

function run(argv) {
  if (values.pipe && values.stdin) {
    // Standard input through a pipe from cat, as in the benchmark (not a file).
    argv = ["bash", "-c", 'cat "$0" | "$@"', values.stdin, ...argv];
  }
  const fds = values.pipe ? ["ignore", openSync(values.stdout, "w"), "inherit"] : stdio();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: fds });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const fd of fds) if (typeof fd === "number") closeSync(fd);
  if (r.status !== 0) console.error(`exit ${r.status}`);
  return seconds;
}

try {
  const wall = run([
    "node",
    "--cpu-prof",
    "--cpu-prof-dir",
    dir,
    "--cpu-prof-interval",
    "250",
    ...positionals,
  ]);
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const self = new Map();
  const byPackage = new Map();
  for (const [id, count] of hits) {
    const f = byId.get(id).callFrame;
    const url = f.url.replace(/^file:\/\//, "").replace(process.cwd(), ".");
    const key = `${f.functionName || "(anonymous)"}  ${url ? `${url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + count);
    const pkg =
      /(packages|apps)\/([\w-]+)/.exec(url)?.[2] ??
      (url.startsWith("node:") ? "node internals" : url ? "other" : f.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + count);
  }
  const pct = (n) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
  console.log(`wall ${wall.toFixed(2)} s (profiled), ${total} samples of 250 us`);
  console.log("\nself time by function:");
  for (const [k, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    console.log(`${pct(n)}  ${k}`);
  }
  console.log("\nself time by origin:");
  for (const [k, n] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`${pct(n)}  ${k}`);
  if (values.strace && spawnSync("sh", ["-c", "command -v strace"]).status === 0) {
    const out = join(dir, "strace.txt");
    run(["strace", "-f", "-c", "-o", out, "node", ...positionals]);
    console.log("\nsystem calls (strace -f -c, all threads):");
    console.log(readFileSync(out, "utf8").split("\n").slice(0, 16).join("\n"));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
