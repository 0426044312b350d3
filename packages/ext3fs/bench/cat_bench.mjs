// Benchmark: `ext3fs cat` of a large file vs `debugfs -R 'cat ...'`, same image,
// same run. A 512 MiB file of real (non-zero) data in an ext3 image (indirect
// block maps) and an ext4 image (extents); output goes through a pipe. Prints
// each wall time (best of 3), throughput, peak RSS of ext3fs, and the ratio.
// BENCH_MIB sets the file size in MiB.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/ext3fs.js", import.meta.url));
const mib = Number(process.env.BENCH_MIB ?? 512);
const size = mib * 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), "ext3fs-cat-bench-"));

function best(label, command, args) {
  const runs = [];
  let rss = 0;
  for (let i = 0; i < 3; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(
      "bash",
      ["-c", `set -o pipefail; /usr/bin/env "$@" | cat > /dev/null`, "bench", command, ...args],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    if (r.status !== 0) throw new Error(`${label} failed (${r.status}): ${r.stderr}`);
    runs.push(Number(process.hrtime.bigint() - start) / 1e9);
    const m = /MAXRSS (\d+)/.exec(String(r.stderr));
    if (m) rss = Math.max(rss, Number(m[1]) * 1024);
  }
  const t = Math.min(...runs);
  console.log(
    `${label.padEnd(34)} ${t.toFixed(2)} s  ${(size / t / 2 ** 20).toFixed(0).padStart(5)} MiB/s${rss ? `  max RSS ${(rss / 2 ** 20).toFixed(0)} MiB` : ""}`,
  );
  return t;
}

try {
  const tree = join(dir, "tree");
  mkdirSync(tree);
  const fd = openSync(join(tree, "big"), "w");
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < mib; i++) {
    for (let j = 0; j < chunk.length; j += 4096) chunk[j] = (i + j) & 0xff || 1;
    writeSync(fd, chunk);
  }
  closeSync(fd);
  const rss = join(dir, "rss.mjs");
  execFileSync("bash", [
    "-c",
    `echo "process.on('exit', () => process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\\\n'));" > '${rss}'`,
  ]);
  console.log(`${mib} MiB file, output through a pipe, best of 3 (page cache warm)`);
  for (const type of ["ext3", "ext4"]) {
    const image = join(dir, `${type}.img`);
    execFileSync("mke2fs", [
      "-q",
      "-F",
      "-t",
      type,
      "-b",
      "4096",
      "-d",
      tree,
      image,
      `${mib + 64}M`,
    ]);
    const ours = best(`ext3fs cat (${type})`, "node", [
      "--import",
      `file://${rss}`,
      bin,
      "cat",
      image,
      "/big",
    ]);
    const theirs = best(`debugfs -R 'cat /big' (${type})`, "debugfs", ["-R", "cat /big", image]);
    console.log(`ratio ext3fs / debugfs throughput (${type}): ${(theirs / ours).toFixed(2)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
