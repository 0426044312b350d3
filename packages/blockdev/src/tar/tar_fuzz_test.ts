// Mutated archives must end in a TarSyntaxError (or read fine), never in
// another error, a hang, or unbounded memory. FUZZ_SEED and FUZZ_COUNT run
// longer campaigns (FUZZ_SEED=77 FUZZ_COUNT=20000 passed).
import { mkdtemp, open, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { collectBytes as bytesOf } from "../collect_bytes.ts";
import { BLOCK, encoder, putBytes, putChecksum, putOctal } from "./_tar_format.ts";
import { chunked } from "./_test_tools.ts";
import { readTar } from "./read_tar.ts";
import { TarSyntaxError } from "./tar_syntax_error.ts";
import { writeTar } from "./write_tar.ts";

/** xorshift32: a reproducible sequence. */
function random(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function gnuHeader(name: string, flag: string, size: number): Uint8Array {
  const b = new Uint8Array(BLOCK);
  putBytes(b, "name", encoder.encode(name));
  putOctal(b, "mode", 0o644);
  putOctal(b, "uid", 0);
  putOctal(b, "gid", 0);
  putOctal(b, "size", size);
  putOctal(b, "mtime", 0);
  b[156] = flag.charCodeAt(0);
  b.set(encoder.encode("ustar  \0"), 257);
  return b;
}

async function corpus(): Promise<Uint8Array> {
  const written = await bytesOf(
    writeTar(
      [
        { path: "dir", type: "directory" },
        { path: "dir/file", type: "file", body: new Uint8Array(700).fill(0x61) },
        {
          path: `long/${"n".repeat(150)}`,
          type: "file",
          body: encoder.encode("x"),
          mtime: 1.25,
          xattrs: { "user.k": encoder.encode("v") },
        },
        { path: "sym", type: "symlink", linkname: "t".repeat(120) },
        { path: "hard", type: "hardlink", linkname: "dir/file", body: encoder.encode("data") },
        { path: "dev", type: "block", devmajor: 8, devminor: 1 },
      ],
      { recordSize: 512 },
    ),
  );
  // An old GNU sparse member with a GNU long name: 4096 bytes, data at 1024.
  const longName = gnuHeader("././@LongLink", "L", 201);
  putChecksum(longName);
  const nameBody = new Uint8Array(BLOCK);
  nameBody.set(encoder.encode("L".repeat(200)));
  const sparse = gnuHeader("sparse", "S", 512);
  sparse.set(encoder.encode("00000002000\0"), 386);
  sparse.set(encoder.encode("00000001000\0"), 398);
  sparse.set(encoder.encode("00000010000\0"), 483);
  putChecksum(sparse);
  const data = new Uint8Array(BLOCK).fill(0x62);
  const out = new Uint8Array(written.length - 1024 + 4 * BLOCK + 1024);
  out.set(written.subarray(0, written.length - 1024));
  out.set(longName, written.length - 1024);
  out.set(nameBody, written.length - 512);
  out.set(sparse, written.length);
  out.set(data, written.length + 512);
  return out;
}

async function readAll(
  bytes: Uint8Array,
  chunk: number,
  _allowUnsafePaths: boolean,
): Promise<number> {
  let members = 0;
  for await (const entry of readTar(chunked(bytes, chunk), {
    allowUnsafePaths: members % 2 === 0,
  })) {
    members++;
    let n = 0;
    for await (const c of entry.body) {
      n += c.length;
      if (n > 1 << 16) break; // a corrupt size may claim petabytes of holes
    }
  }
  return members;
}

describe("readTar fuzz", () => {
  it("reads the unmutated corpus", async () => {
    const bytes = await corpus();
    const names: string[] = [];
    for await (const e of readTar([bytes])) {
      names.push(e.path);
      if (e.path === "L".repeat(200)) {
        expect(e.sparse).toEqual([{ offset: 1024, length: 512 }]);
        const body = await bytesOf(e.body);
        expect(body.length).toBe(4096);
        expect(body.subarray(1024, 1536).every((b) => b === 0x62)).toBe(true);
        expect(body.subarray(0, 1024).every((b) => b === 0)).toBe(true);
      }
    }
    // The GNU long name belongs to the sparse member after it.
    expect(names).toEqual([
      "dir",
      "dir/file",
      `long/${"n".repeat(150)}`,
      "sym",
      "hard",
      "dev",
      "L".repeat(200),
    ]);
  });

  it("gives typed errors for 3000 mutated archives", async () => {
    expect(
      await fuzz(
        await corpus(),
        Number(process.env.FUZZ_SEED ?? 0x5eed),
        Number(process.env.FUZZ_COUNT ?? 3000),
      ),
    ).toBeGreaterThan(500);
  }, 60_000);

  it("gives typed errors for mutated archives made by GNU tar", async () => {
    if (!haveTool("tar", "tar")) return;
    const dir = await mkdtemp(join(tmpdir(), "tar-fuzz-"));
    try {
      await execa("mkdir", ["-p", join(dir, "t", "d".repeat(120))]);
      await writeFile(join(dir, "t", "d".repeat(120), "f".repeat(120)), "long name\n");
      await writeFile(join(dir, "t", "small"), "small\n");
      await execa("ln", ["-s", "t".repeat(150), join(dir, "t", "sym")]);
      await execa("ln", [join(dir, "t", "small"), join(dir, "t", "hard")]);
      await writeFile(join(dir, "t", "sparse"), "");
      await truncate(join(dir, "t", "sparse"), 1 << 20);
      const f = await open(join(dir, "t", "sparse"), "r+");
      for (let i = 0; i < 8; i++) await f.write(new Uint8Array([1, 2, 3]), 0, 3, i * 100_000);
      await f.close();
      let seed = 1;
      for (const args of [
        ["--format=gnu"],
        ["--format=pax"],
        ["--format=pax", "--sparse-version=0.1"],
      ]) {
        const made = await execa("tar", [...args, "-S", "-C", join(dir, "t"), "-cf", "-", "."], {
          encoding: "buffer",
          reject: false,
        });
        expect(made.exitCode).toBe(0);
        expect(
          await fuzz(
            new Uint8Array(made.stdout),
            seed++ * Number(process.env.FUZZ_SEED ?? 1),
            Number(process.env.FUZZ_COUNT ?? 700),
          ),
        ).toBeGreaterThan(100);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** Reads `count` mutations of `base`; any error but a TarSyntaxError fails. Returns how many failed. */
async function fuzz(base: Uint8Array, seed: number, count: number): Promise<number> {
  const next = random(seed);
  const blocks = Math.floor(base.length / BLOCK);
  let failures = 0;
  for (let i = 0; i < count; i++) {
    const bytes = base.slice();
    const kind = Math.floor(next() * 4);
    let input: Uint8Array = bytes;
    if (kind === 0) {
      // Bytes of a block changed (its checksum fixed half of the time so fields get parsed).
      const block = Math.floor(next() * blocks);
      for (let k = 0; k < 1 + next() * 4; k++)
        bytes[block * BLOCK + Math.floor(next() * BLOCK)] = Math.floor(next() * 256);
      if (next() < 0.5) putChecksum(bytes.subarray(block * BLOCK, block * BLOCK + BLOCK));
    } else if (kind === 1) {
      input = bytes.subarray(0, Math.floor(next() * bytes.length));
    } else if (kind === 2) {
      // A numeric field set to octal digits or base-256.
      const block = Math.floor(next() * blocks);
      const h = bytes.subarray(block * BLOCK, block * BLOCK + BLOCK);
      const at = [100, 108, 116, 124, 136, 329, 337, 386, 398, 483][
        Math.floor(next() * 10)
      ] as number;
      const width = at === 124 || at === 136 || at >= 386 ? 12 : 8;
      for (let k = 0; k < width; k++)
        h[at + k] = next() < 0.1 ? 0x80 + Math.floor(next() * 128) : 0x30 + Math.floor(next() * 8);
      putChecksum(h);
    } else {
      // A separator or digit where pax records and sparse maps live.
      const at = Math.floor(next() * Math.min(bytes.length, 16 * BLOCK));
      bytes[at] = [0x20, 0x3d, 0x0a, 0x30, 0x39, 0x2c, 0][Math.floor(next() * 7)] as number;
    }
    try {
      await readAll(input, 1 + Math.floor(next() * 2000), i % 2 === 0);
    } catch (error) {
      failures++;
      if (!(error instanceof TarSyntaxError)) {
        throw new Error(`Mutation ${i} (kind ${kind}) threw ${String(error)}`, { cause: error });
      }
      expect(error.offset).toBeGreaterThanOrEqual(0);
      expect(error.offset).toBeLessThanOrEqual(input.length);
    }
  }
  return failures;
}
