import { createHash } from "node:crypto";
import {
  closeSync,
  createReadStream,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTools } from "../../../../test/harness/tools.ts";
import { mkfsFromTree, scratch } from "./_fixtures_test_util.ts";

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, "../../bin/ext3fs.js");
const built = existsSync(resolve(here, "../../dist/cli.js"));
const GiB = 1 << 30;

async function sha256(stream: AsyncIterable<Uint8Array>): Promise<{ hash: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { hash: hash.digest("hex"), bytes };
}

const canRun = haveTools(["mke2fs"]);

describe.skipIf(!canRun)("ext3fs cat streams with bounded memory", () => {
  const tmp = scratch("ext3fs-cat-");
  const tree = join(tmp.dir, "tree");
  const image = join(tmp.dir, "big.img");
  let expected: { hash: string; bytes: number };
  beforeAll(async () => {
    if (!built)
      throw new Error(
        "Build the package first (pnpm build): this test runs bin/ext3fs.js in a child process",
      );
    mkdirSync(tree);
    // 1 GiB: 1 MiB of data every 8 MiB (128 MiB of data), holes between.
    const fd = openSync(join(tree, "big"), "w");
    const chunk = new Uint8Array(1 << 20);
    for (let at = 0; at < GiB; at += 8 << 20) {
      chunk.fill((at >>> 23) & 0xff);
      chunk[0] = 1;
      writeSync(fd, chunk, 0, chunk.length, at);
    }
    ftruncateSync(fd, GiB);
    closeSync(fd);
    await mkfsFromTree(image, tree, { type: "ext3", blockSize: 4096, size: "1200M" });
    expected = await sha256(createReadStream(join(tree, "big")));
    writeFileSync(
      join(tmp.dir, "rss.mjs"),
      "process.on('exit', () => process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n'));\n",
    );
  }, 120_000);
  afterAll(() => tmp.cleanup());

  it("cats a 1 GiB file through a pipe in under 200 MB of RSS", async () => {
    const child = execa(
      "node",
      ["--import", `file://${join(tmp.dir, "rss.mjs")}`, bin, "cat", image, "/big"],
      {
        encoding: "buffer",
        buffer: { stdout: false },
        reject: false,
      },
    );
    const got = await sha256(child.stdout as AsyncIterable<Uint8Array>);
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(got).toEqual(expected);
    const rss =
      Number(/MAXRSS (\d+)/.exec(Buffer.from(result.stderr as Uint8Array).toString())?.[1]) * 1024;
    console.log(`cat of 1 GiB: max RSS ${(rss / 2 ** 20).toFixed(1)} MiB`);
    expect(rss).toBeGreaterThan(0);
    expect(rss).toBeLessThan(200 * 2 ** 20);
  }, 120_000);

  it("cats a 1 TiB sparse file into a regular file in a moment, leaving holes", async () => {
    const src = join(tmp.dir, "huge-src");
    mkdirSync(src);
    const fd = openSync(join(src, "huge"), "w");
    writeSync(fd, new TextEncoder().encode("tail!"), 0, 5, 2 ** 40 - 5);
    closeSync(fd);
    const image = join(tmp.dir, "huge.img");
    await mkfsFromTree(image, src, { type: "ext4", blockSize: 4096, size: "16M" });
    const out = join(tmp.dir, "huge.out");
    const started = performance.now();
    // The shell's redirection: the child's stdout is the empty regular file itself.
    const result = await execa("bash", ["-c", 'node "$0" cat "$1" /huge > "$2"', bin, image, out], {
      reject: false,
    });
    expect(result.exitCode).toBe(0);
    expect(performance.now() - started).toBeLessThan(10_000);
    const st = statSync(out);
    expect(st.size).toBe(2 ** 40);
    expect(st.blocks * 512).toBeLessThan(1 << 20);
  }, 60_000);
});
