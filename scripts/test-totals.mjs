// Sums the vitest JSON reports every package leaves in .test-results/ into the
// one line CI reads: "N passed, N failed" (skipped tests are counted apart).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = join(import.meta.dirname, "..", ".test-results");
let passed = 0;
let failed = 0;
let skipped = 0;
let files;
try {
  files = readdirSync(dir).filter((f) => f.endsWith(".json"));
} catch {
  files = [];
}
for (const file of files) {
  const report = JSON.parse(readFileSync(join(dir, file), "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  if (report.success === false && (report.numFailedTests ?? 0) === 0) failed += 1;
  console.log(
    `  ${file.replace(/\.json$/, "")}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`,
  );
}
if (files.length === 0) {
  console.log("no test reports found in .test-results/");
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exitCode = failed > 0 ? 1 : 0;
