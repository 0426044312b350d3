// One vitest configuration for every package: tests are `*_test.ts` beside the
// code, and each run leaves a JSON report that scripts/test-totals.mjs sums into
// the single `N passed, N failed` line CI reads.
import { basename, resolve } from "node:path";
import { defineConfig } from "vitest/config";

const root = resolve(import.meta.dirname);

export function sharedConfig(options: { testTimeout?: number } = {}) {
  const name = basename(process.cwd());
  return defineConfig({
    test: {
      include: ["src/**/*_test.ts", "*_test.ts", "**/*_test.ts"],
      exclude: ["**/node_modules/**", "**/dist/**"],
      testTimeout: options.testTimeout ?? 30_000,
      reporters: ["default", "json"],
      outputFile: { json: resolve(root, ".test-results", `${name}.json`) },
    },
  });
}
