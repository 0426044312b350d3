// Benchmark: 4 GiB through `blockdev copy` vs through `cat`, same input, same
// run. Prints each wall time, throughput and the ratio (target: >= 0.8 of cat).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/blockdev.js", import.meta.url));
const size = Number(process.env.BENCH_BYTES ?? 4 * 2 ** 30);
const dir = mkdtempSync(join(tmpdir(), "blockdev-bench-"));
const image = join(dir, "big.img");
execFileSync("truncate", ["-s", String(size), image]);

function time(label, pipeline) {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync("bash", ["-c", `set -o pipefail; ${pipeline}`], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    if (r.status !== 0) throw new Error(`${label} failed with ${r.status}`);
    runs.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  const best = Math.min(...runs);
  console.log(
    `${label.padEnd(28)} ${best.toFixed(2)} s  ${(size / best / 2 ** 20).toFixed(0)} MiB/s`,
  );
  return best;
}

try {
  console.log(
    `${(size / 2 ** 30).toFixed(1)} GiB from a pipe into a pipe (cat IMG | X | cat), best of 3`,
  );
  const cat = time("cat", `cat '${image}' | cat | cat > /dev/null`);
  const copy = time("blockdev copy", `cat '${image}' | '${bin}' copy | cat > /dev/null`);
  const catFile = time("cat > file", `cat '${image}' > '${dir}/out-cat.img'`);
  const sparse = time(
    "blockdev copy --sparse > file",
    `cat '${image}' | '${bin}' copy --sparse > '${dir}/out.img'`,
  );
  console.log(`ratio blockdev copy / cat (throughput): ${(cat / copy).toFixed(2)} (target >= 0.8)`);
  console.log(`ratio copy --sparse to a file / cat to a file: ${(catFile / sparse).toFixed(2)}`);
  const du = (f) => execFileSync("du", ["-B1", f]).toString().split("\t")[0];
  console.log(
    `allocated: cat > file ${du(`${dir}/out-cat.img`)} bytes, blockdev copy --sparse ${du(`${dir}/out.img`)} bytes`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
