// A held-out corpus: e2fsprogs' own regression images (tests/f_*/image.gz of
// https://github.com/tytso/e2fsprogs), damaged and unusual ext2/3/4 images
// written by e2fsprogs' authors, not by us. They are not shipped here (they
// belong to e2fsprogs); point EXT3FS_E2FSPROGS_TESTS at a checkout's `tests`
// directory to run this: `ext3fs check` and `e2fsck -fn` judge each image and
// the agreement rate is printed and held to its measured level.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { memoryIo } from "@bigfile/cli-kit/node";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../cli.ts";
import { e2fsckClean } from "./_check_corpus_test_util.ts";
import { scratch } from "./_fixtures_test_util.ts";

const TESTS = process.env.EXT3FS_E2FSPROGS_TESTS ?? "";

describe.skipIf(TESTS === "" || !existsSync(TESTS))("ext3fs check on e2fsprogs' f_* images", () => {
  const tmp = scratch("ext3fs-heldout-");
  afterAll(() => tmp.cleanup());

  it("agrees with e2fsck -fn on clean vs not clean", async () => {
    const names = readdirSync(TESTS)
      .filter((name) => name.startsWith("f_") && existsSync(join(TESTS, name, "image.gz")))
      .sort();
    const disagree: string[] = [];
    let slowest = 0;
    for (const name of names) {
      const image = join(tmp.dir, `${name}.img`);
      writeFileSync(image, gunzipSync(readFileSync(join(TESTS, name, "image.gz"))));
      const theirs = await e2fsckClean(image);
      const io = memoryIo({});
      const started = performance.now();
      const code = await main(["check", image], io);
      slowest = Math.max(slowest, performance.now() - started);
      expect([0, 1], `${name}: ${io.stderrText()}`).toContain(code);
      expect(io.stderrText(), name).not.toMatch(/^\s+at /m);
      if ((code === 0) !== theirs.clean)
        disagree.push(
          `${name}: e2fsck ${theirs.clean ? "clean" : "NOT clean"}, ours ${code === 0 ? "clean" : "NOT clean"}`,
        );
    }
    const agree = names.length - disagree.length;
    console.log(
      `check vs e2fsck -fn on ${names.length} e2fsprogs f_* images: ${agree} agree (${((100 * agree) / names.length).toFixed(1)}%); slowest check ${slowest.toFixed(0)} ms\n${disagree.join("\n")}`,
    );
    expect(names.length).toBeGreaterThan(100);
    // Measured on e2fsprogs 1.47 (197 images): 186 agree (94.4%).
    expect(agree / names.length).toBeGreaterThanOrEqual(0.93);
  }, 900_000);
});
