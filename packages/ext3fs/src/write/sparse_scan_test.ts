// A big sparse source file that starts with a hole: its hole scan reads around
// the page cache (O_DIRECT), and the buffer alignment probed on that hole may
// not hold for the data, which the kernel then refuses with EINVAL; mkfs must
// read the file through the cache instead. (It failed this way before.)
import { mkdir, mkdtemp, open, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { fsckProblems } from "./_fsck_test_util.ts";

let work = "";
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ext3fs-sparse-scan-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

it("keeps a 64 MiB + 1001-byte sparse file that starts with a hole, tail intact", async () => {
  if (!haveTool("debugfs", "e2fsprogs")) return;
  const src = join(work, "src");
  await mkdir(src);
  const size = 64 * 2 ** 20 + 1001;
  const path = join(src, "odd.bin");
  await truncate(path, 0).catch(() => undefined);
  const fh = await open(path, "w");
  await fh.write(Buffer.from("tail"), 0, 4, size - 101);
  await fh.truncate(size);
  await fh.close();
  const img = join(work, "odd.img");
  // The real bin: where its buffers sit in memory decides what O_DIRECT accepts.
  const bin = fileURLToPath(new URL("../../bin/ext3fs.js", import.meta.url));
  const run = await execa(bin, ["mkfs", src, "--seed", "odd", "-o", img], {
    reject: false,
  });
  expect(run.exitCode, run.stderr).toBe(0);
  const f = await fsckProblems(img);
  expect(f.problems, f.output).toEqual([]);
  const stat = await execa("debugfs", ["-R", "stat /odd.bin", img]);
  expect(stat.stdout).toMatch(new RegExp(`Size: ${size}\\b`));
  const out = join(work, "odd.out");
  await execa("debugfs", ["-R", `dump /odd.bin ${out}`, img]);
  const cmp = await execa("cmp", [path, out], { reject: false });
  expect(cmp.exitCode, cmp.stdout).toBe(0);
}, 60_000);
