import { existsSync, readFileSync, truncateSync } from "node:fs";
import { link, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CopyPool, writeToFile } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../cli.ts";
import { fsckProblems } from "./_fsck_test_util.ts";
import { makeTortureFixture, patternBytes } from "./_test_tree.ts";
import { mkfs } from "./mkfs.ts";

// With an output file, `ext3fs mkfs` lets worker threads (blockdev's
// CopyPool) check and copy file contents. The single-threaded stream is
// proven elsewhere (e2fsck, round trips); here the threaded one must give the
// same bytes, and fail as cleanly.

let work = "";
let tree = "";
let tarPath = "";

beforeAll(async () => {
  ({ work, tree, tarPath } = await makeTortureFixture("ext3fs-copier-"));
  // 20 MiB: at 1 KiB blocks its contents cross two block-group boundaries.
  await mkdir(join(work, "big"));
  await writeFile(join(work, "big", "twenty"), patternBytes(20 << 20, 7));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("ext3fs mkfs with copy threads", () => {
  for (const blockSize of [1024, 4096]) {
    it(`gives the same bytes as without threads (${blockSize}-byte blocks, directories and a tar)`, async () => {
      const images: Buffer[] = [];
      for (const threads of ["0", "1", "2"]) {
        const out = join(work, `same-${blockSize}-${threads}.img`);
        const io = memoryIo();
        const args = [
          "mkfs",
          tree,
          join(work, "big"),
          tarPath,
          "-b",
          String(blockSize),
          "--seed",
          "copier",
        ];
        expect(
          await main([...args, "--threads", threads, "-o", out, "-q"], io),
          io.stderrText(),
        ).toBe(0);
        images.push(readFileSync(out));
        if (threads === "1") {
          const f = await fsckProblems(out);
          expect(f.problems, f.output).toEqual([]);
        }
      }
      expect(images[0]?.length).toBeGreaterThan(20 << 20);
      expect(Buffer.compare(images[0] as Buffer, images[1] as Buffer)).toBe(0);
      expect(Buffer.compare(images[0] as Buffer, images[2] as Buffer)).toBe(0);
    });
  }

  it("reports a file that shrank before its contents were copied, and leaves no output", async () => {
    const dir = join(work, "shrinks");
    await mkdir(dir);
    await writeFile(join(dir, "a"), patternBytes(50_000, 1));
    await writeFile(join(dir, "b"), patternBytes(70_000, 2));
    const pool = new CopyPool({ threads: 1 });
    try {
      const image = await mkfs([dir], { blocks: 8192, copier: pool });
      truncateSync(join(dir, "b"), 1000);
      const out = join(work, "shrinks.img");
      await expect(
        writeToFile(image.chunks({ reuseBuffers: true, copier: pool }), out, {
          holeBlockSize: 1024,
          onSparseTarget: (t) => pool.attach(t.fd, t.offset, 1024),
        }),
      ).rejects.toThrow(
        /^Cannot read .*\/shrinks\/b: it ended at 1000 bytes, expected at least 12288/,
      );
      expect(existsSync(out)).toBe(false);
    } finally {
      await pool.close();
    }
  });

  it("hands the copier each file to check as the walk finds it (a hard link once)", async () => {
    const dir = join(work, "checks");
    await mkdir(join(dir, "sub"), { recursive: true });
    await writeFile(join(dir, "a"), "a");
    await link(join(dir, "a"), join(dir, "a-too"));
    await writeFile(join(dir, "sub", "b"), "b");
    await symlink("a", join(dir, "s"));
    const checked: string[] = [];
    const copier = {
      copy(): void {
        throw new Error("nothing is copied while planning");
      },
      check(path: string | Uint8Array): void {
        checked.push(Buffer.from(path).toString().slice(dir.length));
      },
      finish: async (): Promise<void> => {},
    };
    await mkfs([dir], { blocks: 8192, copier });
    checked.sort();
    expect(checked).toHaveLength(2);
    expect(["/a", "/a-too"]).toContain(checked[0]);
    expect(checked[1]).toBe("/sub/b");
  });

  it("reports the copier's own failure when it refuses further work", async () => {
    const dir = join(work, "refused");
    await mkdir(dir);
    for (const name of ["a", "b", "c"]) await writeFile(join(dir, name), name);
    let calls = 0;
    const copier = {
      copy(): void {},
      check(): void {
        // After a failure a pool refuses calls; finish() tells what failed.
        if (++calls > 1) throw new Error("a copy failed (CopyPool.finish tells which)");
      },
      finish: async (): Promise<void> => {
        throw new Error("Cannot read /x/a: EACCES: permission denied");
      },
    };
    await expect(mkfs([dir], { blocks: 8192, copier })).rejects.toThrow(
      /^Cannot read \/x\/a: EACCES/,
    );
  });

  it("stops the copier's threads when the sink fails, before it closes the output", async () => {
    const dir = join(work, "sink-fails");
    await mkdir(dir);
    await writeFile(join(dir, "a"), patternBytes(100_000, 3));
    const calls: string[] = [];
    const copier = {
      copy(): void {
        calls.push("copy");
      },
      check(): void {},
      finish: async (): Promise<void> => {
        calls.push("finish");
      },
      close: async (): Promise<void> => {
        calls.push("close");
      },
    };
    const image = await mkfs([dir], { blocks: 8192, copier });
    calls.length = 0;
    const sink = async (): Promise<void> => {
      for await (const _ of image.chunks({ copier })) throw new Error("disk full");
    };
    await expect(sink()).rejects.toThrow("disk full");
    // The file's two runs (around its indirect block) were queued, then the copier closed.
    expect(calls).toEqual(["copy", "copy", "close"]);
  });
});
