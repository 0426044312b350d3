// A big sparse source file whose size is not a multiple of 512: its hole scan
// reads around the page cache (O_DIRECT), which the kernel may refuse with
// EINVAL near such an end; mkfs must then read it through the cache instead.
import { mkdir, mkdtemp, open, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeToFile } from "@bigfile/blockdev";
import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { fsckProblems } from "./_fsck_test_util.ts";
import { mkfs } from "./mkfs.ts";

let work = "";
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ext3fs-sparse-scan-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

it("keeps a 64 MiB + 1001-byte sparse file, holes and tail intact", async () => {
  if (!haveTool("debugfs", "e2fsprogs")) return;
  const src = join(work, "src");
  await mkdir(src);
  const size = 64 * 2 ** 20 + 1001;
  const path = join(src, "odd.bin");
  await truncate(path, 0).catch(() => undefined);
  const fh = await open(path, "w");
  await fh.write(Buffer.from("head"), 0, 4, 0);
  await fh.write(Buffer.from("tail"), 0, 4, size - 101);
  await fh.truncate(size);
  await fh.close();
  const image = await mkfs([src], { blockSize: 4096, size: 16 * 2 ** 20, seed: "odd" });
  const img = join(work, "odd.img");
  await writeToFile(image.chunks(), img);
  const f = await fsckProblems(img);
  expect(f.problems, f.output).toEqual([]);
  const stat = await execa("debugfs", ["-R", "stat /odd.bin", img]);
  expect(stat.stdout).toMatch(new RegExp(`Size: ${size}\\b`));
  const out = join(work, "odd.out");
  await execa("debugfs", ["-R", `dump /odd.bin ${out}`, img]);
  const cmp = await execa("cmp", [path, out], { reject: false });
  expect(cmp.exitCode, cmp.stdout).toBe(0);
}, 60_000);
