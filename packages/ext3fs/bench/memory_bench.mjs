#!/usr/bin/env node
// Benchmark: peak RSS of `ext3fs mkfs` against the number of entries, up to a
// tree that fills the seed's filesystem (`--blocks 4040316`, 252,960 inodes)
// to its last inode, with the default writer (the tree, or the walk past
// 262,144 entries) and with `--writer walk` (one directory in memory). Trees
// are generated (small files of 0-3 KiB in 300 directories); mke2fs -d runs on
// the same trees for reference. Not run by tests.
//
//   pnpm bench                                   (as part of the package's benches)
//   BENCH_ENTRIES=10000,100000 node bench/memory_bench.mjs
//   BENCH_BIG=1000000 node bench/memory_bench.mjs  also a 1M-entry tree on a 16 GiB filesystem
//   BENCH_TAR=1 ...                               also each tree as a tar archive
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const ext3fs = join(here, "..", "bin", "ext3fs.js");
const work = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), "ext3fs-memory-bench-"));
const SEED_BLOCKS = 4040316;
// Files that fill the seed filesystem's 252,960 inodes: inodes 1-10 are reserved
// (the root is 2), lost+found is 11, and the tree has 300 directories.
const SEED_FULL = 252960 - 11 - 300;

function makeTree(dir, files) {
  mkdirSync(dir);
  const body = Buffer.alloc(3072, 0x61);
  for (let d = 0; d < 300; d++) mkdirSync(join(dir, `dir${d}`));
  for (let i = 0; i < files; i++) {
    writeFileSync(join(dir, `dir${i % 300}`, `file-${i}.txt`), body.subarray(0, (i * 37) % 3072));
  }
}

function run(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync("/usr/bin/time", ["-v", ...argv], { encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) return { error: (r.stderr ?? "").split("\n")[0] };
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? "");
  return { seconds, rssMiB: rss ? Number(rss[1]) / 1024 : Number.NaN };
}

function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

const sizes = (process.env.BENCH_ENTRIES ?? `10000,100000,${SEED_FULL}`).split(",").map(Number);
const cases = sizes.map((files) => ({ files, blocks: SEED_BLOCKS, args: [] }));
if (process.env.BENCH_BIG) {
  const files = Number(process.env.BENCH_BIG);
  const blocks = 4 * 2 ** 20;
  cases.push({ files, blocks, args: ["-b", "4096", "-N", String(Math.ceil(files * 1.05) + 400)] });
}
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
console.log(`# ext3fs mkfs peak RSS by entries (${new Date().toISOString()}, median of ${rounds})`);
console.log(
  "entries    filesystem       ext3fs mkfs (auto)      ext3fs mkfs --writer walk  mke2fs -t ext3 -d",
);
try {
  for (const c of cases) {
    const tree = join(work, `tree-${c.files}`);
    makeTree(tree, c.files);
    const image = join(work, "image");
    const ours = [];
    const walked = [];
    const theirs = [];
    // ext3fs mkfs of `source` into a fresh image.
    const mkfs = (source, ...extra) => {
      rmSync(image, { force: true });
      return run([
        "node",
        ext3fs,
        "mkfs",
        "-q",
        ...c.args,
        source,
        "--blocks",
        String(c.blocks),
        ...extra,
        "-o",
        image,
      ]);
    };
    for (let round = 0; round < rounds; round++) {
      ours.push(mkfs(tree));
      walked.push(mkfs(tree, "--writer", "walk"));
      rmSync(image, { force: true });
      const bs = c.args.includes("-b") ? 4096 : 1024;
      theirs.push(
        run([
          "sh",
          "-c",
          `truncate -s ${c.blocks * bs} ${image} && mke2fs -q -F -t ext3 ${c.args.join(" ")} -d ${tree} ${image}`,
        ]),
      );
    }
    // The same tree as a tar archive (BENCH_TAR=1): the default writer.
    const tarred = [];
    if (process.env.BENCH_TAR) {
      const tar = join(work, "tree.tar");
      spawnSync("tar", ["-C", tree, "-cf", tar, "."]);
      for (let round = 0; round < rounds; round++) tarred.push(mkfs(tar));
      rmSync(tar, { force: true });
    }
    rmSync(image, { force: true });
    rmSync(tree, { recursive: true, force: true });
    const show = (list) => {
      const failed = list.find((r) => r.error);
      if (failed) return `failed: ${failed.error}`;
      return `${median(list.map((r) => r.rssMiB))
        .toFixed(0)
        .padStart(
          4,
        )} MiB (max ${Math.max(...list.map((r) => r.rssMiB)).toFixed(0)}), ${median(list.map((r) => r.seconds)).toFixed(1)} s`;
    };
    const entries = c.files + 302;
    const size = `${((c.blocks * (c.args.includes("-b") ? 4096 : 1024)) / 2 ** 30).toFixed(1)} GiB`;
    console.log(
      `${String(entries).padEnd(10)} ${size.padEnd(16)} ${show(ours).padEnd(23)} ${show(walked).padEnd(26)} ${show(theirs)}`,
    );
    if (tarred.length) console.log(`${"".padEnd(10)} ${"(as a tar)".padEnd(16)} ${show(tarred)}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
