import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTar } from "@bigfile/blockdev";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { main } from "../cli.ts";
import { fsckProblems } from "./_fsck_test_util.ts";
import { patternBytes, tortureTar } from "./_test_tree.ts";

let work = "";
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ext3fs-cli-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function bytesOf(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of source) chunks.push(c.slice());
  return new Uint8Array(Buffer.concat(chunks));
}

async function makeTree(dir: string, order: string[]): Promise<void> {
  await mkdir(dir);
  for (const name of order) {
    await writeFile(join(dir, name), patternBytes(3000 + name.length, name.length));
    await utimes(join(dir, name), 1_700_000_000, 1_700_000_000);
  }
  await mkdir(join(dir, "sub"));
  await utimes(join(dir, "sub"), 1_700_000_000, 1_700_000_000);
  await utimes(dir, 1_700_000_000, 1_700_000_000);
}

describe("ext3fs mkfs", () => {
  it("reads a tar from standard input and writes a clean filesystem", async () => {
    if (!(await haveTool("debugfs", "e2fsprogs"))) return;
    const io = memoryIo({ stdin: await bytesOf(tortureTar()) });
    const out = join(work, "stdin.img");
    const code = await main(["mkfs", "-", "-t", "ext2", "--root-owner", "0:0", "-o", out], io);
    expect(code, io.stderrText()).toBe(0);
    expect(io.stderrText()).toMatch(/Sized the filesystem to fit/);
    const f = await fsckProblems(out);
    expect(f.problems, f.output).toEqual([]);
    const cat = await execa("debugfs", ["-R", "cat /owned", out], {
      reject: false,
      stripFinalNewline: false,
    });
    expect(cat.stdout).toBe("owned\n");
  });

  it("is reproducible with --seed whatever the creation order and host inode numbers", async () => {
    const a = join(work, "a");
    const b = join(work, "b");
    await makeTree(a, ["one", "two", "three", "four"]);
    await makeTree(b, ["four", "three", "two", "one"]);
    const outs: Uint8Array[] = [];
    for (const dir of [a, b]) {
      const io = memoryIo();
      expect(await main(["mkfs", dir, "--blocks", "4096", "--seed", "same", "-q"], io)).toBe(0);
      outs.push(io.stdoutBytes());
    }
    expect(outs[0]?.length).toBe(4096 * 1024);
    expect(Buffer.from(outs[0] as Uint8Array).equals(Buffer.from(outs[1] as Uint8Array))).toBe(
      true,
    );
    const io = memoryIo({ env: { SOURCE_DATE_EPOCH: "1700000000" } });
    expect(await main(["mkfs", a, "--blocks", "4096", "-q"], io)).toBe(0);
    const io2 = memoryIo({ env: { SOURCE_DATE_EPOCH: "1700000000" } });
    expect(await main(["mkfs", b, "--blocks", "4096", "-q"], io2)).toBe(0);
    expect(Buffer.from(io.stdoutBytes()).equals(Buffer.from(io2.stdoutBytes()))).toBe(true);
  });

  it("sizes a many-group filesystem to fit when no size is given", async () => {
    const dir = join(work, "many");
    await mkdir(dir);
    await writeFile(join(dir, "big"), patternBytes(40 * 1024 * 1024, 9));
    for (let i = 0; i < 3000; i++) await writeFile(join(dir, `f${i}`), "x");
    const out = join(work, "auto.img");
    const io = memoryIo();
    expect(await main(["mkfs", dir, "-b", "1024", "-o", out, "--json"], io)).toBe(0);
    const report = JSON.parse(io.stderrText()) as {
      geometry: { groupCount: number };
      freeBlocks: number;
    };
    expect(report.geometry.groupCount).toBeGreaterThan(4);
    expect(report.freeBlocks).toBeGreaterThan(4000);
    if (await haveTool("e2fsck", "e2fsprogs")) {
      const f = await fsckProblems(out);
      expect(f.problems, f.output).toEqual([]);
    }
  });

  it("is reproducible with --seed from a tar without a root entry (implicit directories)", async () => {
    const tar = await bytesOf(
      writeTar([
        {
          path: "a/b/c.txt",
          type: "file",
          mtime: 1_600_000_000,
          body: new TextEncoder().encode("c"),
          size: 1,
        },
      ]),
    );
    const runs: Uint8Array[] = [];
    for (let i = 0; i < 2; i++) {
      const io = memoryIo({ stdin: tar });
      expect(await main(["mkfs", "-", "--blocks", "2048", "--seed", "tar", "-q"], io)).toBe(0);
      runs.push(io.stdoutBytes());
      await new Promise((r) => setTimeout(r, 1100));
    }
    expect(Buffer.from(runs[0] as Uint8Array).equals(Buffer.from(runs[1] as Uint8Array))).toBe(
      true,
    );
  });

  it("applies a genext2fs device table (devices, ranges, owners) without root", async () => {
    if (!(await haveTool("debugfs", "e2fsprogs"))) return;
    const dir = join(work, "devtab");
    await mkdir(dir);
    await writeFile(join(dir, "owned-by-table"), "x\n");
    const table = join(work, "devtab.txt");
    await writeFile(
      table,
      [
        "# name type mode uid gid major minor start inc count",
        "/dev d 755 0 0 - - - - -",
        "/dev/console c 600 0 5 5 1 - - -",
        "/dev/tty c 620 0 5 4 0 0 1 4",
        "/dev/sda b 660 0 6 8 0 - - -",
        "/dev/initctl p 600 0 0 - - - - -",
        "/owned-by-table f 4750 1234 4321 - - - - -",
        "",
      ].join("\n"),
    );
    const out = join(work, "devtab.img");
    const io = memoryIo();
    expect(
      await main(["mkfs", dir, "-D", table, "--squash-owners", "-o", out, "-q"], io),
      io.stderrText(),
    ).toBe(0);
    const f = await fsckProblems(out);
    expect(f.problems, f.output).toEqual([]);
    const stat = async (p: string) => (await execa("debugfs", ["-R", `stat ${p}`, out])).stdout;
    expect(await stat("/dev/console")).toMatch(
      /character special +Mode: +0600[\s\S]*Group: +5[\s\S]*05:01/,
    );
    expect(await stat("/dev/tty3")).toMatch(/04:03/);
    expect(await stat("/dev/sda")).toMatch(/block special[\s\S]*08:00/);
    expect(await stat("/dev/initctl")).toMatch(/Type: FIFO/);
    expect(await stat("/owned-by-table")).toMatch(/Mode: +04750[\s\S]*User: +1234 +Group: +4321/);
    const bad = join(work, "bad.txt");
    await writeFile(bad, "/dev/x q 600 0 0 - - - - -\n");
    const io2 = memoryIo();
    expect(await main(["mkfs", dir, "-D", bad, "--blocks", "2048"], io2)).toBe(1);
    expect(io2.stderrText()).toMatch(/Cannot use device table line 1: unknown type "q"/);
  });

  it("reports a tree that does not fit before writing anything", async () => {
    const dir = join(work, "big");
    await mkdir(dir);
    await writeFile(join(dir, "f"), patternBytes(3 * 1024 * 1024, 3));
    const out = join(work, "nofit.img");
    const io = memoryIo();
    expect(await main(["mkfs", dir, "--blocks", "2048", "-o", out], io)).toBe(1);
    expect(io.stderrText()).toMatch(
      /^ext3fs: Cannot fit the tree: it needs \d+ data blocks of 1024 bytes .* the filesystem has \d+/m,
    );
    expect(existsSync(out)).toBe(false);
    const io2 = memoryIo();
    expect(await main(["mkfs", dir, "--blocks", "2048"], io2)).toBe(1);
    expect(io2.stdoutBytes().length).toBe(0);
  });

  it("reports names over 255 bytes, truncated tars and missing sources", async () => {
    const long = await bytesOf(
      writeTar([{ path: `d/${"n".repeat(256)}`, type: "file", body: new Uint8Array(1), size: 1 }]),
    );
    const io = memoryIo({ stdin: long });
    expect(await main(["mkfs", "-", "--blocks", "4096"], io)).toBe(1);
    expect(io.stderrText()).toMatch(/Cannot store \/d\/n+: the name is 256 bytes, at most 255/);
    const tar = await bytesOf(
      writeTar([{ path: "f", type: "file", body: patternBytes(5000, 1), size: 5000 }]),
    );
    const io2 = memoryIo({ stdin: tar.subarray(0, 2048) });
    expect(await main(["mkfs", "-", "--blocks", "4096"], io2)).toBe(1);
    expect(io2.stdoutBytes().length).toBe(0);
    expect(io2.stderrText()).toMatch(/^ext3fs: .*/);
    const io3 = memoryIo();
    expect(await main(["mkfs", join(work, "does-not-exist"), "--blocks", "4096"], io3)).toBe(1);
    expect(io3.stderrText()).toMatch(/Cannot read source/);
  });

  it("rejects --size with --blocks and binary output to a terminal", async () => {
    const io = memoryIo();
    expect(await main(["mkfs", work, "--size", "8M", "--blocks", "8192"], io)).toBe(2);
    const io2 = memoryIo({ stdoutIsTTY: true });
    expect(await main(["mkfs", work, "--size", "8M"], io2)).toBe(2);
    const io3 = memoryIo();
    expect(await main(["mkfs", work, "--size", "8M", "--threads", "65"], io3)).toBe(2);
    expect(io3.stderrText()).toMatch(/--threads wants 0 to 64, got 65/);
    const io4 = memoryIo();
    expect(await main(["mkfs", work, "--size", "8M", "--threads", "-1"], io4)).toBe(2);
  });

  it("writes the seed's 4040316-KiB filesystem as a sparse file of 4137283584 bytes", async () => {
    const out = join(work, "seed.img");
    const io = memoryIo();
    expect(await main(["mkfs", "--blocks", "4040316", "-o", out, "--seed", "seed", "-q"], io)).toBe(
      0,
    );
    const st = await import("node:fs").then((fs) => fs.statSync(out));
    expect(st.size).toBe(4137283584);
    expect(st.blocks * 512).toBeLessThan(200 * 1024 * 1024);
    if (await haveTool("e2fsck", "e2fsprogs")) {
      const f = await fsckProblems(out);
      expect(f.problems, f.output).toEqual([]);
    }
  });
});
