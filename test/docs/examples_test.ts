// Every example in the package READMEs and in the doc comments' `@example`
// blocks runs here, so a broken example fails the suite (see README.md).

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allExamples, type CodeExample } from "./extract_examples.ts";
import {
  REPO_ROOT,
  runScriptExample,
  runShellExample,
  SCRIPT_LANGS,
  SHELL_LANGS,
} from "./run_example.ts";
import { typecheckExamples } from "./typecheck_examples.ts";

/** The most blocks that may be marked `no-exec`: raise it only with a reason in review. */
const NO_EXEC_BUDGET = 16;

const everyExample = allExamples(REPO_ROOT);
// DOC_EXAMPLES_ONLY=packages/mbr runs only the examples of the files under that path.
const examples = everyExample.filter((e) => e.file.startsWith(process.env.DOC_EXAMPLES_ONLY ?? ""));
const where = (e: CodeExample) => `${e.file}:${e.line}`;
const scripts = examples.filter((e) => SCRIPT_LANGS.has(e.lang) && e.mark.kind !== "no-exec");
const shells = examples.filter((e) => SHELL_LANGS.has(e.lang) && e.mark.kind === "exec");
const notRun = examples.filter(
  (e): e is CodeExample & { mark: { kind: "no-exec"; reason: string } } =>
    e.mark.kind === "no-exec",
);

describe("doc examples", () => {
  it("finds the examples (the extractor is not silently empty)", () => {
    expect(everyExample.filter((e) => e.file.endsWith(".md")).length).toBeGreaterThan(20);
    expect(everyExample.filter((e) => e.file.endsWith(".ts")).length).toBeGreaterThan(50);
  });

  it("marks every shell block in a README as exec or no-exec", () => {
    const unmarked = examples.filter((e) => SHELL_LANGS.has(e.lang) && e.mark.kind === "none");
    expect(
      unmarked.map(where),
      "precede each ```sh block with <!-- exec --> or <!-- no-exec: reason -->",
    ).toEqual([]);
  });

  it(`keeps the blocks that do not run few (at most ${NO_EXEC_BUDGET}), each with a reason`, () => {
    console.log(
      `doc examples not executed (${notRun.length}):\n${notRun.map((e) => `  ${where(e)}: ${e.mark.reason}`).join("\n")}`,
    );
    expect(notRun.filter((e) => e.mark.reason.length < 10).map(where)).toEqual([]);
    expect(notRun.length).toBeLessThanOrEqual(NO_EXEC_BUDGET);
  });

  it("type-checks every ```ts example with the workspace's strict settings", async () => {
    const ts = scripts.filter((e) => e.lang === "ts" || e.lang === "typescript");
    const problems = await typecheckExamples(ts, join(import.meta.dirname, ".run", "typecheck"));
    expect(problems.map((p) => `${p.where}: ${p.message}`)).toEqual([]);
  }, 120_000);

  describe.each(scripts.map((e) => [where(e), e] as const))("script %s", (_name, example) => {
    it("runs", async () => {
      await runScriptExample(example);
    });
  });

  describe.each(shells.map((e) => [where(e), e] as const))("shell %s", (_name, example) => {
    it("runs and prints what the README shows", async () => {
      await runShellExample(example);
    });
  });
});
