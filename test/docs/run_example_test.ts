// The runner itself: a broken example must fail, or the doc suite proves nothing.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type CodeExample, extractDocExamples, extractMarkdownBlocks } from "./extract_examples.ts";
import { matchesShown, parseTranscript, runScriptExample, runShellExample } from "./run_example.ts";
import { typecheckExamples } from "./typecheck_examples.ts";

function example(lang: string, code: string): CodeExample {
  return {
    file: "test/docs/run_example_test.ts",
    line: 1,
    lang,
    code,
    mark: { kind: "exec" },
    heading: "",
  };
}

describe("extractMarkdownBlocks", () => {
  it("finds fenced blocks with their language, line and marker", () => {
    const md = [
      "# pkg",
      "```ts",
      "const a = 1;",
      "```",
      "<!-- no-exec: writes 4 GB -->",
      "",
      "```sh",
      "bigfile build",
      "```",
      "<!-- exec -->",
      "```sh",
      "$ echo hi",
      "hi",
      "```",
    ].join("\n");
    const blocks = extractMarkdownBlocks(md, "README.md");
    expect(blocks.map((b) => [b.line, b.lang, b.code, b.mark])).toEqual([
      [2, "ts", "const a = 1;", { kind: "none" }],
      [7, "sh", "bigfile build", { kind: "no-exec", reason: "writes 4 GB" }],
      [11, "sh", "$ echo hi\nhi", { kind: "exec" }],
    ]);
  });

  it("refuses a fence that is never closed", () => {
    expect(() => extractMarkdownBlocks("```ts\nx", "README.md")).toThrow(/never closed/);
  });
});

describe("extractDocExamples", () => {
  it("takes the fenced code of each @example, comment markers removed", () => {
    const src = [
      "/**",
      " * Adds.",
      " *",
      " * @example Usage",
      " * ```ts",
      ' * import assert from "node:assert/strict";',
      " * assert.equal(1 + 1, 2);",
      " * ```",
      " * @param a first",
      " */",
      "export function add() {}",
    ].join("\n");
    const [ex, ...rest] = extractDocExamples(src, "add.ts");
    expect(rest).toEqual([]);
    expect(ex?.code).toBe('import assert from "node:assert/strict";\nassert.equal(1 + 1, 2);');
    expect(ex?.line).toBe(4);
  });

  it("refuses an @example without code", () => {
    expect(() => extractDocExamples("/**\n * @example\n * add(1)\n */", "add.ts")).toThrow(
      /without a fenced/,
    );
  });
});

describe("runScriptExample", () => {
  it("runs a correct example with the workspace packages importable", async () => {
    await runScriptExample(
      example(
        "ts",
        'import assert from "node:assert/strict";\nimport { geometryOf } from "@bigfile/chs-geometry";\nconst n: number = geometryOf(4141875200).cylinders;\nassert.equal(n, 503);',
      ),
    );
  });

  it("fails on a wrong result", async () => {
    await expect(
      runScriptExample(
        example(
          "ts",
          'import assert from "node:assert/strict";\nimport { geometryOf } from "@bigfile/chs-geometry";\nassert.equal(geometryOf(4141875200).cylinders, 504);',
        ),
      ),
    ).rejects.toThrow(/504/);
  });

  it("fails on an import that does not exist", async () => {
    await expect(
      runScriptExample(
        example("ts", 'import { noSuchThing } from "@bigfile/chs-geometry";\nnoSuchThing();'),
      ),
    ).rejects.toThrow(/noSuchThing/);
  });

  it("runs each example in an empty temporary directory", async () => {
    await runScriptExample(
      example(
        "js",
        'import assert from "node:assert/strict";\nimport { readdirSync, writeFileSync } from "node:fs";\nassert.deepEqual(readdirSync("."), []);\nwriteFileSync("left-behind", "x");',
      ),
    );
    await runScriptExample(
      example(
        "js",
        'import assert from "node:assert/strict";\nimport { readdirSync } from "node:fs";\nassert.deepEqual(readdirSync("."), []);',
      ),
    );
  });
});

describe("a broken example in a README or a doc comment fails", () => {
  it("a README block whose assertion is wrong", async () => {
    const md = [
      "## Library",
      "```ts",
      'import assert from "node:assert/strict";',
      'import { geometryOf } from "@bigfile/chs-geometry";',
      "assert.equal(geometryOf(4141875200).cylinders, 502); // the README is wrong",
      "```",
    ].join("\n");
    const [block] = extractMarkdownBlocks(md, "README.md");
    if (!block) throw new Error("no block extracted");
    await expect(runScriptExample(block)).rejects.toThrow(/502/);
  });

  it("an @example that uses a name the package no longer exports", async () => {
    const src = [
      "/**",
      " * @example Usage",
      " * ```ts",
      ' * import { FileDevice } from "@bigfile/blockdev"; // moved to @bigfile/blockdev/node',
      ' * await FileDevice.open("big.img");',
      " * ```",
      " */",
      "export const x = 1;",
    ].join("\n");
    const [ex] = extractDocExamples(src, "mod.ts");
    if (!ex) throw new Error("no example extracted");
    await expect(runScriptExample(ex)).rejects.toThrow(/FileDevice/);
  });

  it("a README transcript whose output changed", async () => {
    const md = [
      "<!-- exec -->",
      "```sh",
      "$ chs-geometry lba2chs 63",
      "0/1/1",
      "$ chs-geometry chs2lba 0/1/1",
      "64",
      "```",
    ].join("\n");
    const [block] = extractMarkdownBlocks(md, "README.md");
    if (!block) throw new Error("no block extracted");
    await expect(runShellExample(block)).rejects.toThrow(
      /the README shows\n64\n--- it printed\n63/,
    );
  });
});

describe("typecheckExamples", () => {
  it("places a type error at the example's line, and passes a correct one", async () => {
    const wrong = {
      ...example(
        "ts",
        'import { geometryOf } from "@bigfile/chs-geometry";\nconst c: string = geometryOf(512).cylinders;\n',
      ),
      file: "packages/chs-geometry/README.md",
      line: 20,
    };
    const right = example(
      "ts",
      'import { geometryOf } from "@bigfile/chs-geometry";\nconst c: number = geometryOf(512).cylinders;\n',
    );
    const problems = await typecheckExamples(
      [right, wrong],
      join(import.meta.dirname, ".run", "typecheck-self-test"),
    );
    expect(problems.map((p) => p.where)).toEqual([
      "packages/chs-geometry/README.md:20 (line 2 of the example)",
    ]);
    expect(problems[0]?.message).toMatch(/TS2322/);
  });
});

describe("runShellExample", () => {
  it("compares a transcript's output with what the README shows", async () => {
    await runShellExample(
      example("sh", "$ chs-geometry lba2chs 63\n0/1/1\n$ printf 'a\\nb\\nc\\n'\na\n...\n"),
    );
    await expect(
      runShellExample(example("sh", "$ chs-geometry lba2chs 63\n0/1/2\n")),
    ).rejects.toThrow(/0\/1\/2/);
  });

  it("fails when a step of a transcript fails inside an && list", async () => {
    await expect(
      runShellExample(example("sh", "$ false && echo yes\n$ echo after\nafter")),
    ).rejects.toThrow(/exited 1/);
  });

  it("fails when a command fails", async () => {
    await expect(
      runShellExample(example("sh", "mbr print no-such.img\necho after")),
    ).rejects.toThrow(/exited 1/);
  });
});

describe("parseTranscript and matchesShown", () => {
  it("joins continued command lines and trims trailing blank output", () => {
    expect(parseTranscript("$ a \\\n  b\nout\n\n$ c\n")).toEqual([
      { command: "a \\\n  b", expected: ["out"] },
      { command: "c", expected: [] },
    ]);
    expect(parseTranscript("plain script")).toBeUndefined();
  });

  it("lets ... stand for any lines, and nothing else", () => {
    expect(matchesShown(["a", "x", "y", "b"], ["a", "...", "b"])).toBe(true);
    expect(matchesShown(["a", "b"], ["a", "...", "b"])).toBe(true);
    expect(matchesShown(["a", "c"], ["a", "...", "b"])).toBe(false);
    expect(matchesShown(["a", "b"], ["a"])).toBe(false);
  });
});
