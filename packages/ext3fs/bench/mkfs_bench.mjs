#!/usr/bin/env node
// Benchmark: `ext3fs mkfs` vs `mke2fs -t ext3 -d` and genext2fs on the same trees,
// in the same run. Reports wall time and CPU time (user+sys; the machine may be
// shared, so CPU time is the fairer comparison), their ratios to mke2fs, peak
// RSS (from /usr/bin/time -v) and allocated bytes of the image. Not run by tests.
//
//   pnpm bench                      synthetic tree + the Debian root fixture
//                                   (<repo>/.cache/fixtures/debian-bookworm-minbase, made by
//                                   `node test/scripts/build-fixtures.mjs --rootfs`;
//                                   BIGFILE_DEBIAN_ROOT overrides)
//   BENCH_FILES=100000 pnpm bench   more small files
//   BENCH_TREE=/some/root pnpm bench
//   BENCH_THREADS=0 pnpm bench      ext3fs mkfs --threads 0 (default: its own choice)
import { execFileSync, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const ext3fs = join(here, "..", "bin", "ext3fs.js");
const work = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), "ext3fs-bench-"));

function have(tool) {
  return spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
}

function makeSynthetic(dir, files) {
  mkdirSync(dir);
  let x = 12345;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const buf = Buffer.alloc(1 << 20);
  for (let i = 0; i < buf.length; i += 4) buf.writeUInt32LE(rnd(), i);
  for (let i = 0; i < files; i++) {
    const d = join(dir, `d${i % 100}`, `e${(i >> 7) % 10}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `file-${i}.dat`), buf.subarray(i % 1000, (i % 1000) + (rnd() % 8192)));
  }
  mkdirSync(join(dir, "big"));
  for (let i = 0; i < 20; i++) {
    const fd = openSync(join(dir, "big", `blob${i}`), "w");
    for (let j = 0; j < 5; j++) writeSync(fd, buf);
    closeSync(fd);
  }
  const fd = openSync(join(dir, "big", "sparse-2g"), "w");
  writeSync(fd, buf.subarray(0, 4096), 0, 4096, 0);
  writeSync(fd, buf.subarray(0, 4096), 0, 4096, 2 * 1024 * 1024 * 1024 - 4096);
  closeSync(fd);
}

function measure(label, argv, image, check) {
  rmSync(image, { force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync("/usr/bin/time", ["-v", ...argv], { encoding: "utf8", maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? "");
  const user = /User time \(seconds\): ([\d.]+)/.exec(r.stderr ?? "");
  const sys = /System time \(seconds\): ([\d.]+)/.exec(r.stderr ?? "");
  const cpu = Number(user?.[1] ?? Number.NaN) + Number(sys?.[1] ?? Number.NaN);
  if (r.status !== 0) {
    return {
      label,
      error: (r.stderr ?? "")
        .split("\n")
        .filter((l) => !/^\s/.test(l))
        .slice(0, 3)
        .join(" | "),
    };
  }
  const st = statSync(image);
  let fsck = "n/a";
  if (check && have("e2fsck"))
    fsck = spawnSync("e2fsck", ["-fn", image]).status === 0 ? "clean" : "PROBLEMS";
  return {
    label,
    seconds,
    cpu,
    rssMiB: rss ? Number(rss[1]) / 1024 : Number.NaN,
    allocatedMiB: (st.blocks * 512) / 2 ** 20,
    fsck,
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function bench(name, tree, blocks) {
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
  console.log(
    `\n## ${name}: ${tree} (${blocks} KiB filesystem; median of ${rounds} interleaved rounds after a warm-up read of the tree)`,
  );
  // Warm the page cache the same way for every tool (big sparse files are left
  // alone: reading their holes would fill the cache with zero pages).
  spawnSync("sh", ["-c", `find "${tree}" -type f -size -64M -exec cat {} + > /dev/null`]);
  const ours = join(work, "ours.img");
  const theirs = join(work, "mke2fs.img");
  const gen = join(work, "genext2fs.img");
  const tools = [
    [
      "ext3fs mkfs -t ext3",
      [
        "node",
        ext3fs,
        "mkfs",
        "-q",
        tree,
        "--blocks",
        String(blocks),
        ...(process.env.BENCH_THREADS ? ["--threads", process.env.BENCH_THREADS] : []),
        "-o",
        ours,
      ],
      ours,
    ],
  ];
  if (have("mke2fs")) {
    tools.push([
      "mke2fs -t ext3 -d",
      ["sh", "-c", `truncate -s ${blocks}K ${theirs} && mke2fs -q -F -t ext3 -d ${tree} ${theirs}`],
      theirs,
    ]);
  }
  if (have("genext2fs")) {
    tools.push([
      "genext2fs (ext2)",
      ["genext2fs", "-z", "-d", tree, "-b", String(blocks), "-N", "300000", gen],
      gen,
    ]);
  }
  const runs = tools.map(() => []);
  for (let round = 0; round < rounds; round++) {
    tools.forEach(([label, argv, image], i) => {
      runs[i].push(measure(label, argv, image, round === rounds - 1));
      rmSync(image, { force: true });
    });
  }
  const rows = runs.map((list) => {
    const failed = list.find((r) => r.error);
    if (failed) return failed;
    const last = list[list.length - 1];
    return {
      ...last,
      seconds: median(list.map((r) => r.seconds)),
      cpu: median(list.map((r) => r.cpu)),
      rssMiB: Math.max(...list.map((r) => r.rssMiB)),
    };
  });
  const baseRow = rows.find((r) => r.label.startsWith("mke2fs"));
  const base = baseRow?.seconds;
  const baseCpu = baseRow?.cpu;
  for (const r of rows) {
    if (r.error) {
      console.log(`${r.label.padEnd(22)} failed: ${r.error}`);
      continue;
    }
    const ratio = base ? (r.seconds / base).toFixed(2) : "n/a";
    const cpuRatio = baseCpu ? (r.cpu / baseCpu).toFixed(2) : "n/a";
    console.log(
      `${r.label.padEnd(22)} ${r.seconds.toFixed(2).padStart(7)} s  ratio ${ratio.padStart(5)}  cpu ${r.cpu.toFixed(2).padStart(6)} s (ratio ${cpuRatio.padStart(5)})  peak RSS ${r.rssMiB.toFixed(0).padStart(5)} MiB  allocated ${r.allocatedMiB.toFixed(0).padStart(6)} MiB  e2fsck ${r.fsck}`,
    );
  }
  for (const f of [ours, theirs, gen]) rmSync(f, { force: true });
}

try {
  const files = Number(process.env.BENCH_FILES ?? 30000);
  const synthetic = join(work, "synthetic");
  console.log(`# ext3fs mkfs benchmark (${new Date().toISOString()})`);
  console.log(`making a synthetic tree: ${files} small files, 20 x 5 MiB, one 2 GiB sparse file`);
  makeSynthetic(synthetic, files);
  const du = Number(
    execFileSync("du", ["-sk", "--apparent-size", synthetic], { encoding: "utf8" }).split("\t")[0],
  );
  bench("synthetic", synthetic, Math.max(4 * 1024 * 1024, du * 2));
  const debianRoot =
    process.env.BIGFILE_DEBIAN_ROOT ??
    join(
      process.env.BIGFILE_FIXTURES_DIR ?? join(here, "..", "..", "..", ".cache", "fixtures"),
      "debian-bookworm-minbase",
    );
  const roots = [process.env.BENCH_TREE, debianRoot].filter((p) => p && existsSync(p));
  for (const root of roots) {
    const size = Number(execFileSync("du", ["-sk", root], { encoding: "utf8" }).split("\t")[0]);
    bench("debian root", root, Math.max(1024 * 1024, size * 3));
  }
  if (roots.length === 0) {
    console.log(
      `\n(no Debian root at ${debianRoot}: build it with \`node test/scripts/build-fixtures.mjs --rootfs\` to bench it)`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
