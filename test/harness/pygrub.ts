/**
 * Running Xen's pygrub on an image file, as a Xen host would to find the
 * kernel, initrd and arguments inside it.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { stripAnsi } from "./qemu.ts";
import { findTool } from "./tools.ts";

/** Options of {@link runPygrub}. */
export interface RunPygrubOptions {
  /** `--entry=N`: the menu entry to pick (pygrub's default is the config's). */
  entry?: number;
  /** Kill pygrub after this long. @default 30000 */
  timeoutMs?: number;
}

/** A file pygrub copied out of the image. */
export interface PygrubFile {
  /** Size in bytes. */
  size: number;
  /** SHA-256 of the bytes, hex. */
  sha256: string;
}

/** What {@link runPygrub} found. */
export interface PygrubResult {
  /** True when pygrub exited 0 and named a kernel. */
  ok: boolean;
  /** pygrub's exit code (through `script -e`). */
  exitCode: number | undefined;
  /** The kernel it copied out, or undefined. */
  kernel: PygrubFile | undefined;
  /** The ramdisk it copied out, or undefined. */
  ramdisk: PygrubFile | undefined;
  /** The kernel arguments it printed (`args ...`), or undefined. */
  args: string | undefined;
  /** Everything it printed, escape codes stripped. */
  output: string;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

async function describeFile(path: string): Promise<PygrubFile> {
  const bytes = await readFile(path);
  return { size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/**
 * Runs `pygrub -q --output-format=simple` on `image` under a pseudo-terminal
 * (`script -qec`, since pygrub initialises curses even with -q), reads the
 * kernel and ramdisk it copies out (size and SHA-256), and removes them.
 *
 * @example
 * ```ts
 * const r = await runPygrub("disk.img");
 * expect(r.args).toBe("console=ttyS0 root=/dev/xvda1");
 * expect(r.kernel?.sha256).toBe(sha256OfMyKernel);
 * ```
 */
export async function runPygrub(
  image: string,
  options: RunPygrubOptions = {},
): Promise<PygrubResult> {
  const pygrub = findTool("pygrub") ?? "pygrub";
  const out = await mkdtemp(join(tmpdir(), "bigfile-pygrub-"));
  try {
    const words = [pygrub, "-q", "--output-format=simple", `--output-directory=${out}`];
    if (options.entry !== undefined) words.push(`--entry=${options.entry}`);
    words.push(image);
    const result = await execa("script", ["-qec", words.map(shellQuote).join(" "), "/dev/null"], {
      reject: false,
      stdin: "ignore",
      timeout: options.timeoutMs ?? 30_000,
      env: { TERM: process.env.TERM && process.env.TERM !== "dumb" ? process.env.TERM : "xterm" },
    });
    const output = stripAnsi(`${result.stdout}\n${result.stderr}`);
    let kernelPath: string | undefined;
    let ramdiskPath: string | undefined;
    let args: string | undefined;
    for (const line of output.split("\n")) {
      const m = /^(kernel|ramdisk|args) ?(.*)$/.exec(line.trim());
      if (!m) continue;
      if (m[1] === "kernel") kernelPath = m[2];
      else if (m[1] === "ramdisk") ramdiskPath = m[2];
      else args = m[2];
    }
    const kernel = kernelPath ? await describeFile(kernelPath).catch(() => undefined) : undefined;
    const ramdisk = ramdiskPath
      ? await describeFile(ramdiskPath).catch(() => undefined)
      : undefined;
    return {
      ok: result.exitCode === 0 && kernel !== undefined,
      exitCode: result.exitCode,
      kernel,
      ramdisk,
      args,
      output,
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
