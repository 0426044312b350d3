import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// processIo() of a real process, from the built module, with chosen descriptors.
const built = fileURLToPath(new URL("../../dist/node.js", import.meta.url));
const probe = `import { processIo } from ${JSON.stringify(built)};
const io = processIo();
const tty = process.moduleLoadList.includes("NativeModule tty");
console.log(JSON.stringify([io.stdinIsTTY, io.stdoutIsTTY, io.stderrIsTTY, tty]));`;
const node = ["--input-type=module", "-e", probe];
const dir = mkdtempSync(join(tmpdir(), "cli-io-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function flags(stdio: ("pipe" | "ignore" | number)[]): boolean[] {
  const r = spawnSync(process.execPath, node, { stdio, encoding: "utf8" });
  expect(r.status, r.stderr ?? "").toBe(0);
  return JSON.parse(r.stdout);
}

describe("processIo", () => {
  it("tells a pipe, a file and /dev/null from a terminal without loading node:tty", () => {
    const file = openSync(join(dir, "err"), "w");
    const devNull = openSync("/dev/null", "r");
    try {
      // The last: node:tty (and with it node:net and the streams) stayed unloaded.
      expect(flags([devNull, "pipe", file])).toEqual([false, false, false, false]);
      expect(flags(["pipe", "pipe", "pipe"])).toEqual([false, false, false, false]);
    } finally {
      closeSync(file);
      closeSync(devNull);
    }
  });

  it("sees a real terminal (script(1) gives the process a pseudo-terminal)", () => {
    const command = [process.execPath, ...node].map((a) => `'${a.replaceAll("'", `'\\''`)}'`);
    const r = spawnSync("script", ["-qec", command.join(" "), "/dev/null"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual([true, true, true, true]);
  });
});
