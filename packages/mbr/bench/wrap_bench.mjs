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

function once(pipeline) {
  const start = process.hrtime.bigint();
  const r = spawnSync("bash", ["-c", `set -o pipefail; ${pipeline}`], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (r.status !== 0) throw new Error(`'${pipeline}' failed with ${r.status}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const cases = [
  ["cat", `cat '${part}' | cat | cat > /dev/null`, size],
  [
    "mbr wrap --partition-size",
    `cat '${part}' | '${bin}' wrap --partition-size ${size} --label-id 0x1 | cat > /dev/null`,
    diskBytes,
  ],
  [
    "mbr wrap --disk-size (partition fills it)",
    `cat '${part}' | '${bin}' wrap --disk-size ${diskBytes} --label-id 0x1 | cat > /dev/null`,
    diskBytes,
  ],
  ["cat > file", `cat '${part}' > '${dir}/cat.img'`, size],
  [
    "mbr wrap < file > file (sparse)",
    `'${bin}' wrap --label-id 0x1 < '${part}' > '${dir}/disk.img'`,
    diskBytes,
  ],
];

try {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  console.log(
    `${(size / 2 ** 30).toFixed(1)} GiB partition image through pipes (cat IMG | X | cat); rounds interleaved, best of ${rounds}`,
  );
  // Interleave the cases round by round so a busy moment on the machine hits all of them alike.
  const best = new Map(cases.map(([label]) => [label, Number.POSITIVE_INFINITY]));
  for (let round = 0; round < rounds; round++) {
    for (const [label, pipeline] of cases)
      best.set(label, Math.min(best.get(label), once(pipeline)));
  }
  const rate = new Map();
  for (const [label, , bytes] of cases) {
    const t = best.get(label);
    rate.set(label, bytes / t);
    console.log(`${label.padEnd(42)} ${t.toFixed(2)} s  ${(bytes / t / 2 ** 20).toFixed(0)} MiB/s`);
  }
  const ratio = (a, b) => (rate.get(a) / rate.get(b)).toFixed(2);
  console.log(
    `ratio mbr wrap / cat (throughput, pipes): ${ratio("mbr wrap --partition-size", "cat")} (target >= 0.8)`,
  );
  console.log(
    `ratio mbr wrap --disk-size / cat (throughput, pipes): ${ratio("mbr wrap --disk-size (partition fills it)", "cat")}`,
  );
  console.log(
    `ratio mbr wrap to a sparse file / cat to a file: ${ratio("mbr wrap < file > file (sparse)", "cat > file")}`,
  );
  const du = (f) => execFileSync("du", ["-B1", f]).toString().split("\t")[0];
  console.log(
    `allocated: cat > file ${du(`${dir}/cat.img`)} bytes, mbr wrap > file ${du(`${dir}/disk.img`)} bytes`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
