import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// runMain in a real process, from the built module.
const built = fileURLToPath(new URL("../../dist/node.js", import.meta.url));

/** Runs `body` (the main's body) under runMain; stdout is read slowly when `slowReader`. */
function run(body: string, slowReader = false) {
  const script = `import { runMain } from ${JSON.stringify(built)};
runMain(async (args, io) => { ${body} });`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const started = Date.now();
  let stdout = 0;
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (t: string) => {
    stderr += t;
  });
  if (slowReader) {
    // Read a little, then pause: the child's writes queue up in its stdout stream.
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), 300);
  }
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.length;
  });
  return new Promise<{ code: number | null; stdout: number; stderr: string; ms: number }>(
    (resolve) =>
      child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })),
  );
}

describe("runMain", () => {
  it("exits with main's code once main resolves, not when the event loop runs dry", async () => {
    const r = await run("setTimeout(() => {}, 20000); return 3;");
    expect(r.code).toBe(3);
    expect(r.ms).toBeLessThan(10000);
  });

  it("waits for what main wrote to a pipe whose reader is slow", async () => {
    const r = await run(
      "for (let i = 0; i < 64; i++) io.stdout.write(new Uint8Array(65536).fill(1)); return 0;",
      true,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(64 * 65536);
  });

  it("reports a rejection on one line of stderr, exit 1", async () => {
    const r = await run('throw new Error("the disk is full");');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("the disk is full\n");
  });
});
