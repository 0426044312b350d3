// Executes one extracted example. The convention every example follows (see
// test/docs/README.md): it runs in a fresh empty temporary directory as its
// working directory, creates its own inputs there, and checks what it shows
// with node:assert — a wrong result, a thrown error or a non-zero exit fails
// the suite.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { transform } from "esbuild";
import { execa } from "execa";
import type { CodeExample } from "./extract_examples.ts";

/** The repository root (test/docs/ is two levels down). */
export const REPO_ROOT = resolve(import.meta.dirname, "../..");

/** Where extracted scripts are written: inside the workspace, so `@bigfile/*` resolves. */
const SCRIPT_DIR = join(import.meta.dirname, ".run");

/** The built bins as pnpm links them for this package (`mbr`, `ext3fs`, ...), put first on PATH. */
export const BIN_DIR = join(import.meta.dirname, "..", "node_modules", ".bin");

let counter = 0;

/** A name for the extracted file that says where the example came from. */
function scriptName(example: CodeExample): string {
  const where = `${example.file}_${example.line}`.replace(/[^\w]+/g, "_");
  return `${where}_${process.pid}_${counter++}.mjs`;
}

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "bigfile-doc-example-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs a ```ts or ```js example as its own Node process (so a hang, an exit
 * or a leaked handle cannot take the suite with it): types stripped by
 * esbuild, written to test/docs/.run so `@bigfile/*` resolves through the
 * workspace, started with a fresh temporary directory as working directory.
 */
export async function runScriptExample(example: CodeExample): Promise<void> {
  await mkdir(SCRIPT_DIR, { recursive: true });
  const script = join(SCRIPT_DIR, scriptName(example));
  const { code } = await transform(example.code, {
    loader: example.lang.startsWith("j") ? "js" : "ts",
    format: "esm",
    sourcefile: `${example.file}:${example.line}`,
  });
  await writeFile(script, code);
  try {
    await inTempDir(async (dir) => {
      const result = await execa("node", [script], {
        cwd: dir,
        env: { BIGFILE_DEBUG: "1" },
        reject: false,
        timeout: 60_000,
        stdin: "ignore",
      });
      if (result.exitCode !== 0 || result.timedOut) {
        throw new Error(
          `${example.file}:${example.line}: example ${result.timedOut ? "timed out" : `exited ${result.exitCode}`}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
        );
      }
    });
  } finally {
    await rm(script, { force: true });
  }
}

/** A transcript step: a command after `$ `, and the output the README shows for it. */
export interface TranscriptStep {
  command: string;
  expected: string[];
}

/**
 * Splits a shell block into transcript steps when it shows output (`$ cmd`
 * lines followed by their output); `undefined` for a plain script.
 */
export function parseTranscript(code: string): TranscriptStep[] | undefined {
  const lines = code.split("\n");
  if (!lines.some((l) => l.startsWith("$ "))) return undefined;
  const steps: TranscriptStep[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.startsWith("$ ")) {
      let command = line.slice(2);
      while (command.endsWith("\\") && i + 1 < lines.length) command += `\n${lines[++i]}`;
      steps.push({ command, expected: [] });
    } else if (steps.length === 0) {
      if (line.trim() !== "")
        throw new SyntaxError(`output before the first "$ " command: ${line}`);
    } else {
      steps.at(-1)?.expected.push(line);
    }
  }
  for (const step of steps) {
    while (step.expected.length > 0 && step.expected.at(-1)?.trim() === "") step.expected.pop();
  }
  return steps;
}

/** Whether output lines match the shown ones; a shown `...` line stands for any lines. */
export function matchesShown(actual: string[], shown: string[]): boolean {
  const norm = (l: string) => l.trimEnd();
  const match = (a: number, s: number): boolean => {
    if (s === shown.length) return a === actual.length;
    if (norm(shown[s] ?? "") === "...") {
      for (let k = a; k <= actual.length; k++) if (match(k, s + 1)) return true;
      return false;
    }
    return (
      a < actual.length && norm(actual[a] ?? "") === norm(shown[s] ?? "") && match(a + 1, s + 1)
    );
  };
  return match(0, 0);
}

const STEP_MARK = "@@bigfile-doc-step@@";

/**
 * Runs a ```sh example with bash (`set -euo pipefail`) in a fresh temporary
 * directory, the built bins first on PATH. A transcript's commands must print
 * what the README shows after them.
 */
export async function runShellExample(example: CodeExample): Promise<void> {
  const steps = parseTranscript(example.code);
  const script = steps
    ? // set -e does not stop at a failure inside `a && b`: check each step's status.
      steps
        .map((s) => `echo ${STEP_MARK}\n${s.command}\nstatus=$?; [ $status = 0 ] || exit $status`)
        .join("\n")
    : example.code;
  await inTempDir(async (dir) => {
    const result = await execa("bash", ["-euo", "pipefail", "-c", script], {
      cwd: dir,
      env: { PATH: [BIN_DIR, process.env.PATH].join(delimiter), BIGFILE_DEBUG: "" },
      reject: false,
      timeout: 60_000,
      stdin: "ignore",
    });
    if (result.exitCode !== 0) {
      throw new Error(
        `shell example exited ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
      );
    }
    if (!steps) return;
    const outputs = result.stdout.split(`${STEP_MARK}\n`).slice(1);
    steps.forEach((step, i) => {
      const actual = (outputs[i] ?? "").replace(/\n$/, "").split("\n");
      if (actual.length === 1 && actual[0] === "") actual.pop();
      if (!matchesShown(actual, step.expected)) {
        throw new Error(
          `$ ${step.command}\n--- the README shows\n${step.expected.join("\n")}\n--- it printed\n${actual.join("\n")}`,
        );
      }
    });
  });
}

/** Languages run as scripts and as shell. */
export const SCRIPT_LANGS = new Set(["ts", "js", "typescript", "javascript"]);
export const SHELL_LANGS = new Set(["sh", "bash", "shell", "console"]);
