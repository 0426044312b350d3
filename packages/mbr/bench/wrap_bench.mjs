// Benchmark: `mbr wrap` on a 4 GiB sparse partition image through a pipe vs `cat` of the same
// bytes, in the same run. Prints wall times, throughput and the ratio (target: >= 0.8 of cat).
// Not a test: run it with `pnpm bench` (BENCH_BYTES overrides the size).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/mbr.js", import.meta.url));
const size = Number(process.env.BENCH_BYTES ?? 4 * 2 ** 30);
const dir = mkdtempSync(join(tmpdir(), "mbr-bench-"));
const part = join(dir, "part.img");
execFileSync("truncate", ["-s", String(size), part]);
// The disk mbr wrap makes (MiB alignment): 1 MiB of table and gap, the partition, rounded to MiB.
const diskBytes = 2 ** 20 + Math.ceil(size / 2 ** 20) * 2 ** 20;

function time(label, pipeline, bytes) {
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
    `${label.padEnd(40)} ${best.toFixed(2)} s  ${(bytes / best / 2 ** 20).toFixed(0)} MiB/s`,
  );
  return bytes / best;
}

try {
  console.log(
    `${(size / 2 ** 30).toFixed(1)} GiB partition image through pipes (cat IMG | X | cat), best of 3`,
  );
  const cat = time("cat", `cat '${part}' | cat | cat > /dev/null`, size);
  const wrap = time(
    "mbr wrap --partition-size",
    `cat '${part}' | '${bin}' wrap --partition-size ${size} --label-id 0x1 | cat > /dev/null`,
    diskBytes,
  );
  const pipeIn = time(
    "mbr wrap --disk-size (partition fills it)",
    `cat '${part}' | '${bin}' wrap --disk-size ${diskBytes} --label-id 0x1 | cat > /dev/null`,
    diskBytes,
  );
  const catFile = time("cat > file", `cat '${part}' > '${dir}/cat.img'`, size);
  const wrapFile = time(
    "mbr wrap < file > file (sparse)",
    `'${bin}' wrap --label-id 0x1 < '${part}' > '${dir}/disk.img'`,
    diskBytes,
  );
  console.log(
    `ratio mbr wrap / cat (throughput, pipes): ${(wrap / cat).toFixed(2)} (target >= 0.8)`,
  );
  console.log(`ratio mbr wrap --disk-size / cat (throughput, pipes): ${(pipeIn / cat).toFixed(2)}`);
  console.log(
    `ratio mbr wrap to a sparse file / cat to a file: ${(wrapFile / catFile).toFixed(2)}`,
  );
  const du = (f) => execFileSync("du", ["-B1", f]).toString().split("\t")[0];
  console.log(
    `allocated: cat > file ${du(`${dir}/cat.img`)} bytes, mbr wrap > file ${du(`${dir}/disk.img`)} bytes`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
