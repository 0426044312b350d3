import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "./cli.ts";

const dir = mkdtempSync(join(tmpdir(), "blockdev-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bin = fileURLToPath(new URL("../bin/blockdev.js", import.meta.url));

function sha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function patterned(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
}

describe("blockdev create / info", () => {
  it("creates the seed's sparse 4141875200-byte file and reports it", async () => {
    const path = join(dir, "big.img");
    const io = memoryIo();
    expect(await main(["create", "4141875200", path], io)).toBe(0);
    expect(statSync(path).size).toBe(4141875200);
    expect(statSync(path).blocks).toBe(0);
    const info = memoryIo();
    expect(await main(["info", path, "--json"], info)).toBe(0);
    expect(JSON.parse(info.stdoutText())).toMatchObject({
      bytes: 4141875200,
      sectors: 8089600,
      allocatedBytes: 0,
      sparse: true,
      bootSignature: false,
    });
  });

  it("refuses to replace an existing file unless --force", async () => {
    const path = join(dir, "exists.img");
    writeFileSync(path, "keep");
    const io = memoryIo();
    expect(await main(["create", "1M", path], io)).toBe(1);
    expect(io.stderrText()).toBe(
      `blockdev: '${path}' already exists; remove it or use --force to replace it\n`,
    );
    expect(readFileSync(path, "utf8")).toBe("keep");
    expect(await main(["create", "1M", path, "--force"], memoryIo())).toBe(0);
    expect(statSync(path).size).toBe(2 ** 20);
  });

  it("rejects a bad size as a usage error (exit 2, one line)", async () => {
    const io = memoryIo();
    expect(await main(["create", "12X", join(dir, "x.img")], io)).toBe(2);
    expect(io.stderrText().trim().split("\n")).toHaveLength(1);
    expect(io.stderrText()).toMatch(/^blockdev: .*unknown unit 'X'/);
  });

  it("names a missing file in one line, exit 1, no stack", async () => {
    const io = memoryIo();
    expect(await main(["info", join(dir, "missing.img")], io)).toBe(1);
    expect(io.stderrText()).toBe(
      `blockdev: cannot open '${join(dir, "missing.img")}': no such file or directory\n`,
    );
  });
});

describe("blockdev read / write", () => {
  it("writes stdin at an offset and changes nothing else", async () => {
    const path = join(dir, "patch.img");
    const original = patterned(1 << 20);
    writeFileSync(path, original);
    const patch = new Uint8Array(1000).fill(0xee);
    expect(await main(["write", path, "--offset", "5000"], memoryIo({ stdin: patch }))).toBe(0);
    const after = new Uint8Array(readFileSync(path));
    expect(after.length).toBe(original.length);
    expect(sha(after.subarray(0, 5000))).toBe(sha(original.subarray(0, 5000)));
    expect(sha(after.subarray(6000))).toBe(sha(original.subarray(6000)));
    expect(after.subarray(5000, 6000)).toEqual(patch);
    const io = memoryIo();
    expect(await main(["read", path, "--offset", "4999", "--length", "1002"], io)).toBe(0);
    expect(io.stdoutBytes()).toEqual(after.subarray(4999, 6001));
  });

  it("refuses input longer than the room left, leaving the file as it was", async () => {
    const path = join(dir, "short.img");
    const original = patterned(4096);
    writeFileSync(path, original);
    const io = memoryIo({ stdin: new Uint8Array(200).fill(1) });
    expect(await main(["write", path, "--offset", "4000"], io)).toBe(1);
    expect(io.stderrText()).toMatch(
      /input is 200 bytes but .* has 96 bytes from offset 4000; nothing was written/,
    );
    expect(new Uint8Array(readFileSync(path))).toEqual(original);
    expect(
      await main(
        ["write", path, "--offset", "4000", "--allow-grow"],
        memoryIo({ stdin: new Uint8Array(200).fill(1) }),
      ),
    ).toBe(0);
    expect(statSync(path).size).toBe(4200);
  });

  it("refuses a read past the end", async () => {
    const path = join(dir, "small.img");
    writeFileSync(path, patterned(1024));
    const io = memoryIo();
    expect(await main(["read", path, "--offset", "1000", "--length", "100"], io)).toBe(1);
    expect(io.stderrText()).toMatch(
      /cannot read 100 bytes at offset 1000: .* holds 1024 bytes \(24 from that offset\)/,
    );
  });

  it("refuses to write binary to a terminal and to read an image from one", async () => {
    const path = join(dir, "tty.img");
    writeFileSync(path, patterned(1024));
    const out = memoryIo({ stdoutIsTTY: true });
    expect(await main(["read", path, "--offset", "0"], out)).toBe(2);
    expect(out.stderrText()).toMatch(/^blockdev: refusing to write binary data to a terminal/);
    expect(out.stdoutBytes().length).toBe(0);
    const input = memoryIo({ stdinIsTTY: true });
    expect(await main(["write", path, "--offset", "0"], input)).toBe(2);
    expect(input.stderrText()).toMatch(/standard input is a terminal/);
  });
});

describe("blockdev copy and the real process", () => {
  it("copies sparsely into a file: same bytes, holes on disk", async () => {
    const src = join(dir, "src.img");
    const dst = join(dir, "dst.img");
    await execa("truncate", ["-s", "64M", src]);
    await main(["write", src, "--offset", "10M"], memoryIo({ stdin: patterned(4096) }));
    expect(await main(["copy", "--sparse", src, dst], memoryIo())).toBe(0);
    expect(statSync(dst).size).toBe(64 * 2 ** 20);
    expect(statSync(dst).blocks * 512).toBeLessThanOrEqual(64 * 1024);
    const cmp = await execa("cmp", [src, dst], { reject: false });
    expect(cmp.exitCode).toBe(0);
  });

  it("copies stdin to stdout through pipes and to a redirected file as holes", async () => {
    const src = join(dir, "pipe-src.img");
    const dst = join(dir, "pipe-dst.img");
    await execa("truncate", ["-s", "32M", src]);
    await main(["write", src, "--offset", "1M"], memoryIo({ stdin: patterned(8192) }));
    const r = await execa("bash", [
      "-c",
      `cat '${src}' | '${bin}' copy --sparse | cat > '${dst}.piped' && '${bin}' copy --sparse < '${src}' > '${dst}'`,
    ]);
    expect(r.stderr).toBe("");
    expect((await execa("cmp", [src, `${dst}.piped`], { reject: false })).exitCode).toBe(0);
    expect((await execa("cmp", [src, dst], { reject: false })).exitCode).toBe(0);
    expect(statSync(dst).blocks * 512).toBeLessThanOrEqual(64 * 1024);
  });

  it("ends quietly when the reader goes away (| head -c1)", async () => {
    const src = join(dir, "epipe.img");
    await execa("truncate", ["-s", "256M", src]);
    const r = await execa(
      "bash",
      ["-c", `set -o pipefail; '${bin}' read '${src}' --offset 0 | head -c1 | wc -c`],
      {
        reject: false,
      },
    );
    expect(r.stdout.trim()).toBe("1");
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
  });

  it("refuses binary to a real terminal", async () => {
    const src = join(dir, "tty2.img");
    writeFileSync(src, patterned(100));
    const r = await execa("script", ["-qec", `'${bin}' read '${src}' --offset 0`, "/dev/null"], {
      reject: false,
    });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/blockdev: refusing to write binary data to a terminal/);
  });

  it("prints help and version, exit 0", async () => {
    const r = await execa(bin, ["--help"]);
    expect(r.stdout).toMatch(/Examples:/);
    expect((await execa(bin, ["--version"])).stdout).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
