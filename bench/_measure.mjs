// Running one command line under measurement, and a comparison of several over
// alternating rounds.
//
// A command is a pipeline of stages (argv arrays), optionally reading a file on
// standard input and writing a file (or /dev/null) on standard output. Every
// stage runs under GNU time (`/usr/bin/time -f "%M %U %S"`), so each process
// tree reports its own peak RSS (the largest process it waited for) and CPU
// time. The peak RSS of a pipeline is the SUM of its stages' peaks: the stages
// run at the same time, so that sum is what the machine had to hold (an upper
// bound: the peaks need not coincide). A sequence of steps is one stage
// (`bash -c "a && b && c"`): its peak is the largest step's. Wall time is taken
// around the whole pipeline, bash start-up included, the same for every row.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

/** Quotes one word for bash. */
/**
 * The environment every measured command runs in: the C locale, and without
 * NODE_EXTRA_CA_CERTS, which some machines set for a network proxy and which
 * makes Node 20 parse that certificate file at every start (~40 ms on the
 * benchmark machine: a cost of the machine's setup, not of the tools, and
 * one that only the Node rows would pay). The report says so.
 */
export function measuredEnv() {
  const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env;
  return { ...env, LANG: "C", LC_ALL: "C", DEBUGFS_PAGER: "__none__" };
}

export function q(word) {
  const s = String(word);
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

/** A command as shell text, for the report (`a | b > out`). */
export function describe(cmd) {
  const text = cmd.stages.map((argv) => argv.map(q).join(" ")).join(" | ");
  return `${cmd.stdin ? `${text} < ${q(cmd.stdin)}` : text}${cmd.stdout ? ` > ${q(cmd.stdout)}` : ""}`;
}

/** Median of numbers (the lower middle for an even count, as the old benches did). */
export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

let running;

/** Ends the command being measured, with every process of it (for Ctrl-C). */
export function killRunning(signal = "SIGTERM") {
  if (running?.pid) {
    try {
      process.kill(-running.pid, signal);
    } catch {}
  }
}

/**
 * Runs `cmd` once. Returns { seconds, cpu, peakKiB, stagesKiB, allocated, ok, error }.
 * `cmd.output` (a path) is the file whose allocated bytes are reported; it is
 * removed before the run and, unless `cmd.keepAs` names where to keep the last
 * good one, after it.
 */
export async function runOnce(cmd, { scratch, timeout = 600 } = {}) {
  if (cmd.output) rmSync(cmd.output, { recursive: true, force: true });
  cmd.before?.();
  const files = cmd.stages.map((_, i) => join(scratch, `time.${i}`));
  for (const f of files) rmSync(f, { force: true });
  const stages = cmd.stages.map(
    (argv, i) => `/usr/bin/time -o ${q(files[i])} -f '%M %U %S' ${argv.map(q).join(" ")}`,
  );
  let line = stages.join(" | ");
  if (cmd.stdin) line = `${line} < ${q(cmd.stdin)}`;
  if (cmd.stdout) line = `${line} > ${q(cmd.stdout)}`;
  const t0 = process.hrtime.bigint();
  // GNU timeout leads its own process group and signals all of it: no stage
  // outlives a timeout, and killRunning() reaches every stage.
  const child = spawn(
    "timeout",
    ["-k", "10", String(timeout), "bash", "-c", `set -o pipefail; ${line}`],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...measuredEnv(), ...cmd.env },
    },
  );
  running = child;
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text) => {
    if (stderr.length < 65536) stderr += text;
  });
  const status = await new Promise((done) =>
    child.on("close", (code, signal) => done(code ?? signal)),
  );
  running = undefined;
  const r = { status, stderr };
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const stagesKiB = [];
  let cpu = 0;
  for (const f of files) {
    const last = existsSync(f) ? readFileSync(f, "utf8").trim().split("\n").pop() : "";
    const [kib, user, sys] = (last ?? "").split(" ").map(Number);
    stagesKiB.push(Number.isFinite(kib) ? kib : Number.NaN);
    cpu += (user ?? Number.NaN) + (sys ?? Number.NaN);
  }
  let allocated = Number.NaN;
  if (cmd.output && existsSync(cmd.output)) {
    const st = statSync(cmd.output);
    allocated = st.isFile() ? st.blocks * 512 : duBytes(cmd.output);
  }
  const result = {
    seconds,
    cpu,
    peakKiB: stagesKiB.reduce((a, b) => a + b, 0),
    stagesKiB,
    allocated,
    ok: r.status === 0,
  };
  if (r.status !== 0) {
    const why =
      r.status === 124 || r.status === 137 ? `timed out after ${timeout} s` : `exit ${r.status}`;
    const text = String(r.stderr ?? "")
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("Command exited"))
      .slice(0, 3)
      .join(" | ");
    result.error = `${why}${text ? `: ${text.slice(0, 300)}` : ""}`;
  }
  if (cmd.output && cmd.keepAs && result.ok) renameSync(cmd.output, cmd.keepAs);
  if (cmd.output) rmSync(cmd.output, { recursive: true, force: true });
  return result;
}

/** Allocated bytes of a directory tree (du -s -B1). */
export function duBytes(path, apparent = false) {
  const r = spawnSync("du", ["-s", "-B1", ...(apparent ? ["--apparent-size"] : []), path], {
    encoding: "utf8",
  });
  return Number(String(r.stdout).split("\t")[0]);
}

/**
 * Runs a comparison: every row once as a warm-up (discarded), then `rounds`
 * rounds, the rows in order on even rounds and in reverse on odd ones, so a busy
 * moment or a warm cache favours no row. Ratios are taken per round (row time /
 * baseline time in the same round) and summarised by their median and range.
 *
 * comparison: { group, name, input, rows: [{ label, role, cmd }], baseline: label,
 *   ratios?: [[a, b]] (default: every "ours" row against the baseline), notes, target }
 */
export async function compare(comparison, { rounds, warmup, scratch, timeout, log }) {
  const rows = comparison.rows.map((row) => ({ ...row, runs: [] }));
  const failed = new Set();
  const once = async (row) => {
    if (failed.has(row.label)) return;
    const r = await runOnce(row.cmd, { scratch, timeout });
    if (!r.ok) failed.add(row.label);
    return r;
  };
  for (let w = 0; w < warmup; w++) for (const row of rows) await once(row);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? rows : [...rows].reverse();
    for (const row of order) {
      const r = await once(row);
      if (r) row.runs[round] = r;
    }
  }
  const out = {
    group: comparison.group,
    name: comparison.name,
    input: comparison.input,
    notes: comparison.notes ?? [],
    target: comparison.target,
    baseline: comparison.baseline,
    rounds,
    warmup,
    rows: rows.map((row) => {
      const byRound = Array.from({ length: rounds }, (_, i) => row.runs[i] ?? null);
      const runs = byRound.filter(Boolean);
      const bad = runs.find((r) => !r.ok);
      return {
        label: row.label,
        role: row.role,
        command: row.show ?? describe(row.cmd),
        bytes: row.bytes,
        error: bad?.error,
        seconds: median(runs.filter((r) => r.ok).map((r) => r.seconds)),
        cpu: median(runs.filter((r) => r.ok).map((r) => r.cpu)),
        peakKiB: maxOf(runs.map((r) => r.peakKiB)),
        stagesKiB: runs.at(-1)?.stagesKiB,
        allocated: runs.filter((r) => r.ok).at(-1)?.allocated ?? Number.NaN,
        runs: byRound.map((r) =>
          r ? { seconds: r.seconds, cpu: r.cpu, peakKiB: r.peakKiB, ok: r.ok } : null,
        ),
      };
    }),
  };
  const pairs =
    comparison.ratios ??
    out.rows.filter((r) => r.role === "ours").map((r) => [r.label, comparison.baseline]);
  out.ratios = pairs.map(([a, b]) => ratio(out, a, b, rounds));
  log?.(out);
  return out;
}

function maxOf(values) {
  const finite = values.filter(Number.isFinite);
  return finite.length ? Math.max(...finite) : Number.NaN;
}

function ratio(out, a, b, rounds) {
  const A = out.rows.find((r) => r.label === a);
  const B = out.rows.find((r) => r.label === b);
  const per = [];
  for (let i = 0; i < rounds; i++) {
    const x = A?.runs[i];
    const y = B?.runs[i];
    if (x?.ok && y?.ok) per.push(x.seconds / y.seconds);
  }
  return {
    a,
    b,
    median: median(per),
    min: per.length ? Math.min(...per) : Number.NaN,
    max: per.length ? Math.max(...per) : Number.NaN,
    perRound: per,
    cpu: A && B ? A.cpu / B.cpu : Number.NaN,
  };
}
