#!/usr/bin/env node
// BENCHMARKS.md and the SVG charts, from a run's JSON results (bench/run.mjs
// calls this at the end of a run). The charts are Vega-Lite specifications
// rendered to SVG by Vega in Node (no canvas, no browser).
//
//   node bench/report.mjs [bench/results/full.json]   rewrite BENCHMARKS.md and bench/charts/
//   node bench/report.mjs bench/results/full.json --merge bench/results/only-formats.json --out bench/results/full.json
//                                    the same, with the groups of a partial run replaced by its rows
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as vega from "vega";
import * as vl from "vega-lite";
import { fitExponent } from "./_suites.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");

const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
const mib = (bytes) => (Number.isFinite(bytes) ? (bytes / 2 ** 20).toFixed(1) : "–");
/** A table cell: pipes escaped. */
const cell = (text) => String(text).replaceAll("|", "\\|");
const ratioText = (r) =>
  Number.isFinite(r.median) ? `${fmt(r.median, 3)} (${fmt(r.min, 3)}–${fmt(r.max, 3)})` : "–";

async function svg(spec) {
  const compiled = vl.compile({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: { font: "sans-serif", background: "white" },
    ...spec,
  }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  return view.toSVG();
}

/** Every ratio of the run, one bar each (median, with the range over rounds). */
function ratioRows(results) {
  const rows = [];
  for (const c of results.comparisons) {
    if (c.group === "scaling") continue;
    for (const r of c.ratios ?? []) {
      if (!Number.isFinite(r.median)) continue;
      rows.push({
        what: `${r.a} / ${r.b} (${c.name.replace(/^\(\w\) /, "")})`,
        one: 1,
        group: c.group,
        median: r.median,
        min: r.min,
        max: r.max,
      });
    }
  }
  return rows;
}

function scalingRows(results) {
  const rows = [];
  for (const c of results.comparisons.filter((x) => x.group === "scaling")) {
    for (const row of c.rows) {
      if (row.error || !Number.isFinite(row.seconds)) continue;
      rows.push({
        files: c.files,
        tool: row.label,
        seconds: row.seconds,
        rssMiB: row.peakKiB / 1024,
      });
    }
  }
  return rows;
}

async function charts(results, dir) {
  mkdirSync(dir, { recursive: true });
  const written = {};
  const ratios = ratioRows(results);
  if (ratios.length) {
    const x = { type: "quantitative", scale: { type: "log" } };
    written.ratios = join(dir, "ratios.svg");
    const y = {
      field: "what",
      type: "nominal",
      sort: null,
      title: null,
      axis: { labelLimit: 700 },
    };
    writeFileSync(
      written.ratios,
      await svg({
        title:
          "Time ratio ours / theirs: median of rounds (bar from 1), range over rounds (line); < 1: ours is faster",
        width: 360,
        layer: [
          {
            data: { values: ratios },
            mark: { type: "bar", height: 10 },
            encoding: {
              y,
              x: { field: "median", ...x, title: "ratio (log scale)" },
              x2: { field: "one" },
              color: { field: "group", type: "nominal", title: "group" },
            },
          },
          {
            data: { values: ratios },
            mark: { type: "rule" },
            encoding: { y, x: { field: "min", ...x }, x2: { field: "max" } },
          },
          {
            data: { values: [{ one: 1 }] },
            mark: { type: "rule", color: "black", strokeDash: [4, 3] },
            encoding: { x: { field: "one", ...x } },
          },
        ],
      }),
    );
  }
  const scaling = scalingRows(results);
  if (scaling.length) {
    const files = { field: "files", type: "quantitative", scale: { type: "log" }, title: "files" };
    const line = (field, title) => ({
      title,
      width: 420,
      height: 260,
      data: { values: scaling },
      mark: { type: "line", point: true },
      encoding: {
        x: files,
        y: { field, type: "quantitative", scale: { type: "log" }, title },
        color: { field: "tool", type: "nominal" },
      },
    });
    written.scalingTime = join(dir, "scaling_time.svg");
    writeFileSync(written.scalingTime, await svg(line("seconds", "populate time, s (log-log)")));
    written.scalingRss = join(dir, "scaling_rss.svg");
    writeFileSync(written.scalingRss, await svg(line("rssMiB", "peak RSS, MiB (log-log)")));
  }
  return written;
}

function table(c) {
  const lines = [
    "| tool | median wall s | median CPU s | peak RSS MiB | allocated MiB | rounds |",
    "| --- | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const row of c.rows) {
    if (row.error) {
      lines.push(`| ${cell(row.label)} | failed: ${cell(row.error)} | | | | |`);
      continue;
    }
    const per = row.runs.filter(Boolean).map((r) => fmt(r.seconds));
    lines.push(
      `| ${cell(row.label)} | ${fmt(row.seconds)} | ${fmt(row.cpu)} | ${fmt(row.peakKiB / 1024, 0)} | ${mib(row.allocated)} | ${per.join(", ")} |`,
    );
  }
  return lines.join("\n");
}

function targetText(c, r) {
  const baseline = c.baseline ?? c.ratios?.[0]?.b;
  if (!c.target || r.b !== baseline) return "";
  if (!Number.isFinite(r.median)) return "target: not measured";
  return `target <= ${fmt(c.target.max, 2)}: ${r.median <= c.target.max ? "**met**" : "**not met**"}`;
}

/** Writes the Markdown report and the charts. target: { markdown, charts }. */
export async function report(results, target) {
  const written = await charts(results, target.charts);
  const link = (file) => relative(dirname(target.markdown), file);
  const m = results.machine ?? {};
  const v = results.versions ?? {};
  const out = [];
  out.push("# Benchmarks");
  out.push("");
  out.push(
    `bigfile against the tools users would pick instead, on the same inputs, in the same run. Generated by \`bench/run.mjs\` from its JSON results (${results.quick ? "a --quick smoke run: small inputs, few rounds" : "a full run"}); do not edit by hand. Reproduce with \`${results.command ?? "pnpm bench"}\` (\`pnpm bench --quick\` is a short smoke run of every comparison on small inputs).`,
  );
  out.push("");
  out.push("## When and where");
  out.push("");
  if (results.partial) {
    out.push(
      "**A partial run**: it stopped before the end; the comparisons below are the ones it finished.",
      "",
    );
  }
  const minutes =
    (Date.parse(results.finished ?? results.started) - Date.parse(results.started)) / 60000;
  out.push(`- Date: ${results.started} to ${results.finished} (${fmt(minutes, 1)} min)`);
  out.push(
    `- Machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB memory, Linux ${m.kernel}, Node ${m.node}; scratch on ${m.filesystem}`,
  );
  if (m.unsetEnv?.length) {
    out.push(
      `- Measured commands run without ${m.unsetEnv.join(", ")}, which this machine sets for its network proxy: with it, Node 20 parses the named certificate file at every start (~40 ms here), a cost of the machine's setup that only the Node rows would pay.`,
    );
  }
  out.push(
    `- Load average (1, 5, 15 min) at start ${m.loadStart?.join(", ")}, at end ${m.loadEnd?.join(", ") ?? "(not recorded)"}${results.note ? `. ${results.note}` : ""}`,
  );
  out.push(
    `- Commit ${m.commit}${m.dirty ? " (with uncommitted changes in the tree)" : ""}; bigfile ${v.bigfile}, ext3fs ${v.ext3fs}`,
  );
  out.push(
    `- Tools: ${v.mke2fs}; ${v.debugfs}; ${v.genext2fs}; ${v.sfdisk}; ${v.grub}; ${v.coreutils}; ${v.tar}${v.qemuImg ? `; ${v.qemuImg}` : ""}`,
  );
  out.push(
    `- Method: each comparison runs every row once as a warm-up (${results.plan.warmup} per row), then ${results.plan.rounds} rounds alternating the rows (reversed order on odd rounds). Times are medians; a ratio is taken per round (ours / theirs, same round) and given as median (min–max over rounds). Peak RSS is from GNU time per process; for a pipeline it is the sum of its stages' peaks. Allocated is the output's allocated bytes on disk (st_blocks). Page cache warm (inputs read once before each comparison).`,
  );
  out.push("");
  out.push("## Summary: ratios and targets");
  out.push("");
  out.push("| comparison | ours / theirs (time) | median (min–max) | CPU ratio | target |");
  out.push("| --- | --- | --- | ---: | --- |");
  for (const c of results.comparisons) {
    if (c.group === "scaling") continue;
    for (const r of c.ratios ?? []) {
      out.push(
        `| ${cell(c.name)} | ${cell(`${r.a} / ${r.b}`)} | ${ratioText(r)} | ${fmt(r.cpu, 3)} | ${targetText(c, r)} |`,
      );
    }
    for (const r of c.sizeRatios ?? []) {
      out.push(
        `| ${cell(c.name)} | output size ${cell(`${r.a} / ${r.b}`)} | ${fmt(r.ratio, 4)} | | within 1%: ${r.met ? "**met**" : "**not met**"} |`,
      );
    }
    if (c.error) out.push(`| ${c.name} | failed: ${c.error} | | | |`);
  }
  out.push("");
  if (written.ratios) out.push(`![Time ratios, ours / theirs](${link(written.ratios)})`, "");
  const groups = [
    ["populate", "Populate: a filesystem from a tree"],
    ["image", "Whole image"],
    ["filters", "Pass-through filters"],
    ["read", "Reading"],
    ["formats", "Virtual disk formats: qcow2, VHD, VMDK"],
  ];
  for (const [g, title] of groups) {
    const list = results.comparisons.filter((c) => c.group === g);
    if (!list.length) continue;
    out.push(`## ${title}`, "");
    for (const c of list) {
      out.push(`### ${c.name}`, "");
      if (c.error) {
        out.push(`Failed: ${c.error}`, "");
        continue;
      }
      out.push(
        `Input: ${c.input}. ${c.rounds} rounds after ${c.warmup} warm-up run(s) per row.`,
        "",
      );
      out.push(table(c), "");
      for (const r of c.ratios) {
        out.push(
          `- ${r.a} / ${r.b}: time ${ratioText(r)}, CPU ${fmt(r.cpu, 3)}${targetText(c, r) ? `; ${targetText(c, r)}` : ""}`,
        );
      }
      for (const n of c.notes ?? []) out.push(`- ${n}`);
      out.push("", "<details><summary>commands</summary>", "");
      for (const row of c.rows) out.push(`- ${row.label}: \`${row.command.replaceAll("`", "'")}\``);
      out.push("", "</details>", "");
    }
  }
  const scaling = results.comparisons.filter((c) => c.group === "scaling" && !c.error);
  if (scaling.length) {
    out.push("## Scaling: populate time and peak RSS by number of files", "");
    out.push(
      `Input: ${scaling[0].input.replace(/^\d+ /, "N ").replace(/\d+ inodes, \d+ KiB/, "N x 1.1 inodes, N x 1.6 KiB + 256 MiB")}.`,
      "",
    );
    const tools = scaling[0].rows.map((r) => r.label);
    out.push(
      `| files | ${tools.map((t) => `${t} s | ${t} peak RSS MiB`).join(" | ")} | ratio (min–max) |`,
    );
    out.push(`| ---: | ${tools.map(() => "---: | ---:").join(" | ")} | --- |`);
    for (const c of scaling) {
      const cells = c.rows.map((r) =>
        r.error
          ? `failed | ${r.error.slice(0, 60)}`
          : `${fmt(r.seconds)} | ${fmt(r.peakKiB / 1024, 0)}`,
      );
      out.push(
        `| ${c.files.toLocaleString("en")} | ${cells.join(" | ")} | ${ratioText(c.ratios[0] ?? {})} |`,
      );
    }
    out.push("");
    for (const t of tools) {
      const pts = scaling.map((c) => [c.files, c.rows.find((r) => r.label === t)?.seconds]);
      const k = fitExponent(pts);
      const rss =
        Math.max(...scaling.map((c) => c.rows.find((r) => r.label === t)?.peakKiB ?? 0)) / 1024;
      out.push(
        `- ${t}: time ∝ files^k with k = **${fmt(k, 3)}** (least squares on log-log, ${pts.length} sizes; ${fmt(fitExponent(pts.slice(-2)), 3)} between the two largest, where start-up no longer counts); largest peak RSS ${fmt(rss, 0)} MiB`,
      );
    }
    out.push("- Targets (ours): k <= 1.1; peak RSS < 200 MiB at every size.", "");
    if (written.scalingTime)
      out.push(`![Populate time by files, log-log](${link(written.scalingTime)})`, "");
    if (written.scalingRss)
      out.push(`![Peak RSS by files, log-log](${link(written.scalingRss)})`, "");
  }
  const profile = join(here, "PROFILE.md");
  if (existsSync(profile)) out.push(readFileSync(profile, "utf8").trim(), "");
  mkdirSync(dirname(target.markdown), { recursive: true });
  writeFileSync(target.markdown, `${out.join("\n").trimEnd()}\n`);
}

/**
 * The results of `base` with every group that `part` ran replaced by part's
 * comparisons (in base's place; new groups at the end), and a note that says
 * when and where those rows were measured. A part run with `--match` ran only
 * some comparisons: those replace base's of the same name (new names follow
 * their group's last), and the group's others are kept.
 */
export function mergeResults(base, part) {
  const groups = [...new Set(part.comparisons.map((c) => c.group))];
  if (part.match) return mergeByName(base, part, groups);
  const comparisons = [];
  for (const c of base.comparisons) {
    if (!groups.includes(c.group)) comparisons.push(c);
    else if (!comparisons.some((x) => x.group === c.group && part.comparisons.includes(x))) {
      comparisons.push(...part.comparisons.filter((x) => x.group === c.group));
    }
  }
  for (const g of groups) {
    if (!comparisons.some((c) => c.group === g)) {
      comparisons.push(...part.comparisons.filter((c) => c.group === g));
    }
  }
  return { ...base, comparisons, ...mergedNotes(base, part, groups) };
}

function mergeByName(base, part, groups) {
  const key = (c) => `${c.group}\u0000${c.name}`;
  const fresh = new Map(part.comparisons.map((c) => [key(c), c]));
  const comparisons = base.comparisons.map((c) => fresh.get(key(c)) ?? c);
  for (const c of part.comparisons) {
    if (comparisons.includes(c)) continue;
    const last = comparisons.findLastIndex((x) => x.group === c.group);
    comparisons.splice(last < 0 ? comparisons.length : last + 1, 0, c);
  }
  return { ...base, comparisons, ...mergedNotes(base, part, groups) };
}

function mergedNotes(base, part, groups) {
  const m = part.machine ?? {};
  const which = part.match
    ? `The ${groups.join(", ")} rows matching /${part.match}/`
    : `The ${groups.join(", ")} rows`;
  const when = `${which} come from a separate run (\`${part.command ?? "bench/run.mjs"}\`, ${part.started} to ${part.finished}, ${part.plan?.rounds} rounds after ${part.plan?.warmup} warm-up; load average ${m.loadStart?.join(", ")} at start, ${m.loadEnd?.join(", ") ?? "?"} at end; commit ${m.commit}${m.dirty ? " with uncommitted changes" : ""}${m.unsetEnv?.length ? `; measured commands without ${m.unsetEnv.join(", ")}, which this machine sets for its network proxy and which makes Node 20 parse that certificate file at every start (~40 ms here: a cost of the machine's setup that only the Node rows would pay)` : ""}${part.note ? `; ${part.note}` : ""}).`;
  return {
    versions: { ...base.versions, ...part.versions },
    note: [withoutSentence(base.note, `${which} come from a separate run (`), when]
      .filter(Boolean)
      .join(" "),
  };
}

/** `note` without the sentence that starts with `start` (an earlier run of the same rows). */
function withoutSentence(note, start) {
  const at = note?.indexOf(start) ?? -1;
  if (at < 0) return note;
  const end = note.indexOf(").", at);
  return `${note.slice(0, at)}${end < 0 ? "" : note.slice(end + 2)}`.replace(/\s+/g, " ").trim();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // node bench/report.mjs [RESULTS.json] [--merge PART.json]... [--out MERGED.json]
  const args = process.argv.slice(2);
  const take = (flag) => {
    const found = [];
    for (let i = args.indexOf(flag); i >= 0; i = args.indexOf(flag)) {
      found.push(args[i + 1]);
      args.splice(i, 2);
    }
    return found;
  };
  const parts = take("--merge");
  const [save] = take("--out");
  const file = args[0] ?? join(here, "results", "full.json");
  let results = JSON.parse(readFileSync(file, "utf8"));
  for (const part of parts) results = mergeResults(results, JSON.parse(readFileSync(part, "utf8")));
  if (save) writeFileSync(save, `${JSON.stringify(results, null, 2)}\n`);
  const target = results.quick
    ? {
        markdown: join(here, "results", "quick", "BENCHMARKS.md"),
        charts: join(here, "results", "quick"),
      }
    : { markdown: join(root, "BENCHMARKS.md"), charts: join(here, "charts") };
  await report(results, target);
  console.log(`wrote ${target.markdown} and ${target.charts}`);
}
