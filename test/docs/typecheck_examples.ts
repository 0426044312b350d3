// Type-checks the ```ts examples with the workspace's strict compiler settings:
// running them catches what is wrong at run time, this catches a type that
// changed or an option that was renamed, which a run may not reach.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { execa } from "execa";
import type { CodeExample } from "./extract_examples.ts";
import { REPO_ROOT } from "./run_example.ts";

const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

/** One compiler message, placed at its example's README or source line. */
export interface TypeProblem {
  where: string;
  message: string;
}

/**
 * Writes each example as a module under `dir` (inside test/, so `@bigfile/*`
 * resolves to the built packages' types) and runs `tsc --noEmit` over them.
 */
export async function typecheckExamples(
  examples: CodeExample[],
  dir: string,
): Promise<TypeProblem[]> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const files = examples.map((_, i) => `example_${i}.ts`);
  await Promise.all(
    examples.map((e, i) => writeFile(join(dir, files[i] as string), `${e.code}\nexport {};\n`)),
  );
  await writeFile(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: relative(dir, join(REPO_ROOT, "tsconfig.base.json")),
      compilerOptions: { noEmit: true, declaration: false, sourceMap: false, inlineSources: false },
      include: ["*.ts"],
    }),
  );
  // Removed afterwards: test/'s own tsc and Biome must not see the extracted files.
  const result = await execa("node", [TSC, "-p", join(dir, "tsconfig.json"), "--pretty", "false"], {
    reject: false,
  }).finally(() => rm(dir, { recursive: true, force: true }));
  const problems: TypeProblem[] = [];
  for (const line of `${result.stdout}\n${result.stderr}`.split("\n")) {
    const m = /example_(\d+)\.ts\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(line);
    if (!m) continue;
    const example = examples[Number(m[1])];
    if (!example) continue;
    problems.push({
      where: `${example.file}:${example.line} (line ${m[2]} of the example)`,
      message: m[4] ?? "",
    });
  }
  if (result.exitCode !== 0 && problems.length === 0) {
    problems.push({
      where: dir,
      message: `tsc exited ${result.exitCode}: ${result.stdout}${result.stderr}`,
    });
  }
  return problems;
}
