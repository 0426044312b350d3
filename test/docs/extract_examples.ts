// Finds the code examples in the READMEs and in the doc comments' `@example`
// blocks, so that test/docs can execute every one of them.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** What a README's marker comment says about the block below it. */
export type ExecMark = { kind: "exec" } | { kind: "no-exec"; reason: string } | { kind: "none" };

/** One fenced code block: where it is, its language and its text. */
export interface CodeExample {
  /** Path relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence (or of `@example` in a doc comment). */
  line: number;
  /** The fence's language tag: `ts`, `js`, `sh`, ... */
  lang: string;
  /** The text between the fences, comment markers removed. */
  code: string;
  /** The `<!-- exec -->` / `<!-- no-exec: reason -->` line right above the fence. */
  mark: ExecMark;
  /** The nearest heading above the block (README blocks only). */
  heading: string;
}

const FENCE = /^(\s*)(`{3,})([\w-]*)\s*$/;
const EXEC_MARK = /^<!--\s*exec\s*-->$/;
const NO_EXEC_MARK = /^<!--\s*no-exec:\s*(.*?)\s*-->$/;

/** The fenced blocks of a markdown text, with the marker comment above each. */
export function extractMarkdownBlocks(text: string, file: string): CodeExample[] {
  const lines = text.split("\n");
  const blocks: CodeExample[] = [];
  let heading = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, "").trim();
    const open = FENCE.exec(line);
    if (!open) continue;
    const fence = open[2] ?? "```";
    const end = lines.findIndex((l, j) => j > i && l.trim() === fence);
    if (end < 0) throw new SyntaxError(`${file}:${i + 1}: code fence is never closed`);
    blocks.push({
      file,
      line: i + 1,
      lang: open[3] ?? "",
      code: lines.slice(i + 1, end).join("\n"),
      mark: markAbove(lines, i),
      heading,
    });
    i = end;
  }
  return blocks;
}

function markAbove(lines: string[], fenceIndex: number): ExecMark {
  let j = fenceIndex - 1;
  while (j >= 0 && (lines[j] ?? "").trim() === "") j--;
  const above = (lines[j] ?? "").trim();
  if (EXEC_MARK.test(above)) return { kind: "exec" };
  const noExec = NO_EXEC_MARK.exec(above);
  if (noExec) return { kind: "no-exec", reason: noExec[1] ?? "" };
  return { kind: "none" };
}

/** The code blocks under `@example` tags in the doc comments of a source file. */
export function extractDocExamples(text: string, file: string): CodeExample[] {
  const examples: CodeExample[] = [];
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const startLine = text.slice(0, comment.index).split("\n").length;
    const body = comment[0]
      .split("\n")
      .map((l) => l.replace(/^\s*\/?\*\*?\/?\s?/, "").replace(/\s*\*\/$/, ""));
    for (let i = 0; i < body.length; i++) {
      if (!/^@example\b/.test(body[i] ?? "")) continue;
      // The example's text runs to the next tag; its code is the fenced part.
      let end = body.findIndex((l, j) => j > i && /^@\w/.test(l));
      if (end < 0) end = body.length;
      const blocks = extractMarkdownBlocks(body.slice(i + 1, end).join("\n"), file);
      if (blocks.length === 0) {
        throw new SyntaxError(`${file}:${startLine + i}: @example without a fenced code block`);
      }
      for (const block of blocks) {
        examples.push({ ...block, line: startLine + i, heading: body[i] ?? "" });
      }
      i = end - 1;
    }
  }
  return examples;
}

/** The READMEs this suite executes: every package's and the bigfile app's. */
export function readmePaths(root: string): string[] {
  const packages = readdirSync(join(root, "packages"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join("packages", d.name, "README.md"));
  return [...packages.sort(), join("apps", "bigfile", "README.md")];
}

/** The non-test TypeScript sources whose doc comments are executed. */
export function sourcePaths(root: string): string[] {
  const dirs = [
    ...readdirSync(join(root, "packages")).map((p) => join(root, "packages", p, "src")),
    join(root, "apps", "bigfile", "src"),
  ];
  return dirs.flatMap((dir) => walkTs(dir)).map((f) => relative(root, f));
}

function walkTs(dir: string): string[] {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "testdata" ? [] : walkTs(path);
    return e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") && !e.name.endsWith(".d.ts")
      ? [path]
      : [];
  });
}

/** Every example of the repository: README blocks and doc-comment examples. */
export function allExamples(root: string): CodeExample[] {
  return [
    ...readmePaths(root).flatMap((f) =>
      extractMarkdownBlocks(readFileSync(join(root, f), "utf8"), f),
    ),
    ...sourcePaths(root).flatMap((f) => extractDocExamples(readFileSync(join(root, f), "utf8"), f)),
  ];
}
