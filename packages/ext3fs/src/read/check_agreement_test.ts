// `ext3fs check` against the oracle, `e2fsck -fn`, on every image of a
// corpus made with e2fsprogs' tools: clean where e2fsck is clean, not clean
// where it is not. Each targeted image must agree; over the seeded byte
// flips the agreement rate is printed and must stay at its measured level.
// The same fuzzed images go through ls -l and extract --tar: every run ends
// in time, without a stack trace, and writes at most a small multiple of the
// image's size.
import { statSync } from "node:fs";
import { Writable } from "node:stream";
import type { CliIo } from "@bigfile/cli-kit/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTools } from "../../../../test/harness/tools.ts";
import { main } from "../cli.ts";
import {
  buildFuzzCorpus,
  buildTargetedCorpus,
  type CorpusImage,
  e2fsckClean,
} from "./_check_corpus_test_util.ts";
import { scratch } from "./_fixtures_test_util.ts";

async function ourCheck(image: string): Promise<{ clean: boolean; output: string; code: number }> {
  const io = memoryIo({});
  const code = await main(["check", image], io);
  return { clean: code === 0, code, output: `${io.stdoutText()}${io.stderrText()}` };
}

interface Verdict {
  image: CorpusImage;
  e2fsck: boolean;
  ours: boolean;
  detail: string;
}

async function judge(images: CorpusImage[]): Promise<Verdict[]> {
  const out: Verdict[] = [];
  for (const image of images) {
    const theirs = await e2fsckClean(image.path);
    const ours = await ourCheck(image.path);
    const detail = `${image.name} (${image.what}): e2fsck ${theirs.clean ? "clean" : "NOT clean"}, ours ${ours.clean ? "clean" : "NOT clean"}\n--- e2fsck:\n${theirs.output
      .split("\n")
      .filter((l) => !/^(Pass \d|e2fsck \d)/.test(l))
      .slice(0, 12)
      .join("\n")}\n--- ours:\n${ours.output.split("\n").slice(0, 8).join("\n")}`;
    out.push({ image, e2fsck: theirs.clean, ours: ours.clean, detail });
  }
  return out;
}

function rate(verdicts: Verdict[]): string {
  const agree = verdicts.filter((v) => v.e2fsck === v.ours).length;
  const falseAlarms = verdicts.filter((v) => v.e2fsck && !v.ours).length;
  const missed = verdicts.filter((v) => !v.e2fsck && v.ours).length;
  return `${agree}/${verdicts.length} agree (${((100 * agree) / verdicts.length).toFixed(1)}%), ${falseAlarms} false alarm(s), ${missed} missed`;
}

/** A CliIo that counts what goes to stdout. */
function countingIo(): CliIo & { written(): number; stderrText(): string } {
  let written = 0;
  const err: Buffer[] = [];
  const stdout = new Writable({
    write(chunk: Buffer, _enc, done) {
      written += chunk.length;
      done();
    },
  });
  const stderr = new Writable({
    write(chunk: Buffer, _enc, done) {
      err.push(chunk);
      done();
    },
  });
  return {
    stdin: process.stdin,
    stdout,
    stderr,
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env: {},
    cwd: process.cwd(),
    written: () => written,
    stderrText: () => Buffer.concat(err).toString("utf8"),
  };
}

const canRun = haveTools(["mke2fs", "debugfs", "e2fsck"]);
const FUZZ_PER_BASE = Number(process.env.EXT3FS_FUZZ_PER_BASE ?? 75);

describe.skipIf(!canRun)("ext3fs check agrees with e2fsck -fn", () => {
  const tmp = scratch("ext3fs-agree-");
  let targeted: CorpusImage[] = [];
  let fuzzed: CorpusImage[] = [];
  beforeAll(async () => {
    targeted = await buildTargetedCorpus(`${tmp.dir}`);
    fuzzed = await buildFuzzCorpus(`${tmp.dir}/fuzz`, FUZZ_PER_BASE);
  }, 120_000);
  afterAll(() => tmp.cleanup());

  it("on each targeted image: one damage (or a valid feature) at a time", async () => {
    const verdicts = await judge(targeted);
    console.log(`check vs e2fsck -fn, targeted corpus: ${rate(verdicts)}`);
    console.log(
      `clean by e2fsck: ${verdicts
        .filter((v) => v.e2fsck)
        .map((v) => v.image.name)
        .join(", ")}`,
    );
    const disagree = verdicts.filter((v) => v.e2fsck !== v.ours).map((v) => v.detail);
    for (const detail of disagree) console.log(detail);
    expect(disagree).toEqual([]);
    // Each valid construction really is valid, or it would prove nothing about false alarms.
    const notValid = verdicts.filter((v) => v.image.what.startsWith("valid:") && !v.e2fsck);
    expect(notValid.map((v) => v.detail)).toEqual([]);
    // The corpus holds both kinds, or agreement would prove nothing.
    expect(verdicts.filter((v) => v.e2fsck).length).toBeGreaterThan(8);
    expect(verdicts.filter((v) => !v.e2fsck).length).toBeGreaterThan(20);
  }, 300_000);

  it("on seeded byte flips of ext2, ext3 and ext4 images", async () => {
    const verdicts = await judge(fuzzed);
    console.log(`check vs e2fsck -fn, fuzzed corpus: ${rate(verdicts)}`);
    for (const v of verdicts.filter((x) => x.e2fsck !== x.ours).slice(0, 40)) console.log(v.detail);
    const agree = verdicts.filter((v) => v.e2fsck === v.ours).length;
    // Measured: 300 of 300 (the corpus is the same bytes every run).
    expect(agree / verdicts.length).toBeGreaterThanOrEqual(0.97);
  }, 600_000);

  it("ls -l and extract --tar on the fuzzed images: in time, one-line errors, bounded output", async () => {
    let worst = 0;
    for (const image of fuzzed) {
      const size = statSync(image.path).size;
      for (const args of [
        ["ls", "-l", image.path, "/etc"],
        ["extract", image.path, "--tar"],
        ["check", image.path],
      ]) {
        const io = countingIo();
        const started = performance.now();
        const code = await main(args, io);
        const took = performance.now() - started;
        const context = `${image.name} (${image.what}) ${args[0]}: exit ${code}, ${took.toFixed(0)} ms, ${io.written()} bytes`;
        expect([0, 1], context).toContain(code);
        expect(io.stderrText(), context).not.toMatch(/^\s+at /m);
        expect(took, context).toBeLessThan(10_000);
        expect(io.written(), context).toBeLessThanOrEqual(2 * size + (1 << 20));
        worst = Math.max(worst, io.written() / size);
      }
    }
    console.log(`fuzzed commands: largest output ${worst.toFixed(2)}x the image size`);
  }, 600_000);
});
