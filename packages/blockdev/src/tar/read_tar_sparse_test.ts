// GNU sparse members (old `S` headers and pax 0.0/0.1/1.0) and 9 GiB
// members whose bodies are skipped unread.
import { createReadStream } from "node:fs";
import { mkdtemp, open, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { zeroChunks } from "../zeros.ts";
import { readTar } from "./read_tar.ts";

const haveTar = haveTool("tar", "tar");
let root = "";
const BIG = 9 * 2 ** 30 + 5;

beforeAll(async () => {
  if (!haveTar) return;
  root = await mkdtemp(join(tmpdir(), "tar-sparse-"));
  // 20 MiB with two islands of data and a hole at the end.
  await writeFile(join(root, "sp"), "");
  await truncate(join(root, "sp"), 20 << 20);
  const f = await open(join(root, "sp"), "r+");
  await f.write(new Uint8Array(5000).fill(0x41), 0, 5000, 1 << 20);
  await f.write(new Uint8Array([0x42]), 0, 1, 10 << 20);
  await f.close();
  // 60 islands: old GNU headers need extension blocks, pax 1.0 a 2-block map.
  await writeFile(join(root, "many"), "");
  await truncate(join(root, "many"), 60 * 65536 * 4);
  const m = await open(join(root, "many"), "r+");
  for (let i = 0; i < 60; i++) await m.write(new Uint8Array([i + 1]), 0, 1, i * 65536 * 4 + 12345);
  await m.close();
  // 9 GiB of hole, then "tail\n".
  await writeFile(join(root, "big9"), "");
  await truncate(join(root, "big9"), BIG - 5);
  const g = await open(join(root, "big9"), "r+");
  await g.write(new TextEncoder().encode("tail\n"), 0, 5, BIG - 5);
  await g.close();
  await writeFile(join(root, "after"), "after\n");
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** Sums a body without keeping it; returns its length and its last 5 bytes. */
async function drain(body: AsyncIterable<Uint8Array>): Promise<{ length: number; tail: string }> {
  let length = 0;
  let last = new Uint8Array(0);
  for await (const chunk of body) {
    length += chunk.length;
    last = new Uint8Array([...last, ...chunk.subarray(Math.max(0, chunk.length - 5))]).slice(-5);
  }
  return { length, tail: new TextDecoder().decode(last) };
}

describe.skipIf(!haveTar)("readTar on GNU sparse members", () => {
  const variants: Record<string, string[]> = {
    gnu: ["--format=gnu"],
    "pax 0.0": ["--format=pax", "--sparse-version=0.0"],
    "pax 0.1": ["--format=pax", "--sparse-version=0.1"],
    "pax 1.0": ["--format=pax", "--sparse-version=1.0"],
  };
  for (const [name, args] of Object.entries(variants)) {
    it(`expands ${name} sparse members with zeros`, async () => {
      const archive = join(root, `${name.replace(" ", "")}.tar`);
      const made = await execa(
        "tar",
        [...args, "-S", "-C", root, "-cf", archive, "sp", "many", "big9", "after"],
        {
          reject: false,
        },
      );
      expect(made.stderr).toBe("");
      expect(made.exitCode).toBe(0);
      const seen: string[] = [];
      for await (const e of readTar(createReadStream(archive, { highWaterMark: 1000 }))) {
        seen.push(e.path);
        if (e.path === "sp") {
          expect(e.type).toBe("file");
          expect(e.size).toBe(20 << 20);
          expect(e.sparse?.length).toBe(2);
          expect(e.sparse?.[0]?.offset).toBe(1 << 20);
          const chunks: Uint8Array[] = [];
          for await (const c of e.body) chunks.push(new Uint8Array(c));
          expect(Buffer.concat(chunks).equals(await readFile(join(root, "sp")))).toBe(true);
        } else if (e.path === "many") {
          expect(e.sparse).toHaveLength(60);
          const chunks: Uint8Array[] = [];
          for await (const c of e.body) chunks.push(new Uint8Array(c));
          expect(Buffer.concat(chunks).equals(await readFile(join(root, "many")))).toBe(true);
        } else if (e.path === "big9") {
          expect(e.size).toBe(BIG);
          expect(e.sparse?.at(-1)?.offset).toBeLessThan(BIG);
          if (name === "gnu") expect(await drain(e.body)).toEqual({ length: BIG, tail: "tail\n" });
          // otherwise skipped unread
        } else {
          expect(e.path).toBe("after");
          let text = "";
          for await (const c of e.body) text += new TextDecoder().decode(c);
          expect(text).toBe("after\n");
        }
      }
      expect(seen).toEqual(["sp", "many", "big9", "after"]);
      await rm(archive);
    });
  }
});

describe.skipIf(!haveTar)("readTar on a 9 GiB member", () => {
  for (const [format, headerBytes] of [
    ["gnu", 512],
    ["pax", 1536],
  ] as const) {
    it(`reads GNU tar's --format=${format} header of a 9 GiB file and skips 9 GiB of body`, async () => {
      // GNU tar's own header bytes, then the body as views of one zero buffer.
      const head = await execa(
        "sh",
        ["-c", `tar --format=${format} -C '${root}' -cf - big9 | head -c ${headerBytes}`],
        {
          encoding: "buffer",
          reject: false,
        },
      );
      expect(head.stdout.length).toBe(headerBytes);
      async function* archive(): AsyncGenerator<Uint8Array> {
        yield head.stdout;
        yield* zeroChunks(BIG - 5);
        yield new TextEncoder().encode("tail\n");
        yield* zeroChunks((512 - (BIG % 512)) % 512);
        yield* zeroChunks(1024);
      }
      const entries: Array<[string, number]> = [];
      for await (const e of readTar(archive())) entries.push([e.path, e.size]);
      expect(entries).toEqual([["big9", BIG]]);
    });
  }
});
