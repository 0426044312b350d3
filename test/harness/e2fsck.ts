/**
 * e2fsck as an oracle: a forced check whose problems come back as data.
 *
 * @module
 */
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { execa } from "execa";

/** Options of {@link e2fsck}. */
export interface E2fsckOptions {
  /** Byte offset of the filesystem in the image (a partition). @default 0 */
  offset?: number;
  /**
   * Also run `e2fsck -fy` on a sparse copy (`cp --sparse=always`) and report
   * what it fixed and whether a second `-fn` is then clean. @default false
   */
  fix?: boolean;
  /**
   * The filesystem was last written by a QEMU guest. Under TCG the guest's
   * clock can run a few seconds ahead of the host's (its TSC calibration is
   * rough), so its mount and write times may lie just past the host's "now",
   * which e2fsck reports as a superblock time in the future. With this set,
   * e2fsck's "now" is the later of the host's clock and those two times when
   * they are at most {@link GUEST_CLOCK_SLACK_SECONDS} ahead; anything further
   * ahead is still reported. @default false
   */
  guestClock?: boolean;
}

/** How far a guest's clock may run ahead of the host's before e2fsck hears of it. */
export const GUEST_CLOCK_SLACK_SECONDS = 600;

/** What {@link e2fsck} found. */
export interface E2fsckResult {
  /** Exit code of `e2fsck -fn` (0 clean, 4 errors left, 8 operational error). */
  exitCode: number | undefined;
  /** Lines of `-fn` output that are not the pass headers, banner or summary. */
  problems: string[];
  /** True when the exit code is 0 and there are no problems. */
  clean: boolean;
  /** Full output of `-fn` (stdout then stderr). */
  output: string;
  /** With `fix`: the `-fy` run on a copy. */
  fixed?: {
    exitCode: number | undefined;
    output: string;
    /** `-fn` on the repaired copy is clean. */
    cleanAfter: boolean;
  };
}

/** Lines every healthy run prints. */
const BENIGN = [
  /^Pass \d[A-Z]?: /,
  /^e2fsck \d+\.\d+/,
  /^[^:]*: \d+\/\d+ files \([\d.]+% non-contiguous\), \d+\/\d+ blocks$/,
];

/** The problem lines of e2fsck output. */
export function e2fsckProblems(output: string): string[] {
  return output
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "" && !BENIGN.some((re) => re.test(line)));
}

/** `image?offset=N`: e2fsprogs' unix I/O manager opens the filesystem at a byte offset. */
export function withOffset(image: string, offset = 0): string {
  return offset ? `${image}?offset=${offset}` : image;
}

/**
 * The time e2fsck should take as "now" for a filesystem a guest wrote last:
 * undefined (the host's clock) unless the superblock's mount or write time is
 * ahead of the host by at most {@link GUEST_CLOCK_SLACK_SECONDS}.
 */
export async function guestAwareNow(
  image: string,
  offset = 0,
  hostNow = Math.floor(Date.now() / 1000),
): Promise<number | undefined> {
  const sb = Buffer.alloc(8);
  const fh = await open(image, "r");
  try {
    await fh.read(sb, 0, 8, offset + 1024 + 44); // s_mtime, s_wtime
  } finally {
    await fh.close();
  }
  const latest = Math.max(sb.readUInt32LE(0), sb.readUInt32LE(4));
  return latest > hostNow && latest - hostNow <= GUEST_CLOCK_SLACK_SECONDS ? latest : undefined;
}

async function check(
  target: string,
  flags: string,
  now?: number,
): Promise<{ exitCode: number | undefined; output: string }> {
  const r = await execa("e2fsck", [flags, target], {
    reject: false,
    stdin: "ignore",
    env: {
      E2FSCK_CONFIG: "/dev/null",
      LANG: "C",
      LC_ALL: "C",
      // e2fsck's own test hook for its notion of the current time.
      ...(now === undefined ? {} : { E2FSCK_TIME: String(now) }),
    },
  });
  return { exitCode: r.exitCode, output: `${r.stdout}\n${r.stderr}` };
}

/**
 * `e2fsck -fn` on the filesystem in `image` at `offset`: exit code, output and
 * the problem lines. With `fix`, also `e2fsck -fy` on a sparse copy (the
 * original is never written).
 *
 * @example
 * ```ts
 * const r = await e2fsck("disk.img", { offset: 32256 });
 * expect(r.problems).toEqual([]);
 * expect(r.exitCode).toBe(0);
 * ```
 */
export async function e2fsck(image: string, options: E2fsckOptions = {}): Promise<E2fsckResult> {
  const now = options.guestClock ? await guestAwareNow(image, options.offset) : undefined;
  const first = await check(withOffset(image, options.offset), "-fn", now);
  const problems = e2fsckProblems(first.output);
  const result: E2fsckResult = {
    exitCode: first.exitCode,
    problems,
    clean: first.exitCode === 0 && problems.length === 0,
    output: first.output,
  };
  if (options.fix) {
    const dir = await mkdtemp(join(tmpdir(), "bigfile-e2fsck-"));
    try {
      const copy = join(dir, basename(image));
      await execa("cp", ["--sparse=always", image, copy]);
      const fixed = await check(withOffset(copy, options.offset), "-fy", now);
      const after = await check(withOffset(copy, options.offset), "-fn", now);
      result.fixed = {
        exitCode: fixed.exitCode,
        output: fixed.output,
        cleanAfter: after.exitCode === 0 && e2fsckProblems(after.output).length === 0,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return result;
}
