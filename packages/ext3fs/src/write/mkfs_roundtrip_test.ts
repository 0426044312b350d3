import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeToFile } from "@bigfile/blockdev/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { makeTortureFixture } from "./_test_tree.ts";
import { mkfs } from "./mkfs.ts";

let work = "";
let tree = "";
let tarPath = "";

beforeAll(async () => {
  ({ work, tree, tarPath } = await makeTortureFixture("ext3fs-rt-"));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Paths the tar overlay replaces: compared with debugfs stat instead. */
const OVERLAID = new Set(["hard/a"]);

function compareTrees(src: string, out: string, rel = ""): string[] {
  const diffs: string[] = [];
  for (const name of readdirSync(join(src, rel))) {
    const path = rel ? `${rel}/${name}` : name;
    if (OVERLAID.has(path)) continue;
    const a = lstatSync(join(src, path));
    let b: ReturnType<typeof lstatSync>;
    try {
      b = lstatSync(join(out, path));
    } catch {
      if (a.isFIFO() || a.isSocket()) continue; // rdump skips special files
      diffs.push(`${path}: missing`);
      continue;
    }
    if (a.isDirectory()) {
      if (!b.isDirectory()) diffs.push(`${path}: not a directory`);
      else diffs.push(...compareTrees(src, out, path));
    } else if (a.isSymbolicLink()) {
      if (!b.isSymbolicLink() || readlinkSync(join(src, path)) !== readlinkSync(join(out, path))) {
        diffs.push(`${path}: symlink target differs`);
      }
    } else if (a.isFile()) {
      if (!b.isFile()) diffs.push(`${path}: not a file`);
      else {
        if (!readFileSync(join(src, path)).equals(readFileSync(join(out, path))))
          diffs.push(`${path}: contents differ`);
        if ((a.mode & 0o777) !== (b.mode & 0o777))
          diffs.push(`${path}: mode ${a.mode.toString(8)} vs ${b.mode.toString(8)}`);
        if (Math.floor(a.mtimeMs / 1000) !== Math.floor(b.mtimeMs / 1000))
          diffs.push(`${path}: mtime differs`);
      }
    }
  }
  return diffs;
}

async function stat(image: string, path: string): Promise<string> {
  const r = await execa("debugfs", ["-R", `stat "${path}"`, image], { reject: false });
  return r.stdout;
}

describe("mkfs output", () => {
  it("is the same bytes with reused buffers (consumed chunk by chunk) and with fresh ones", async () => {
    const { createHash } = await import("node:crypto");
    const digests: string[] = [];
    for (const reuseBuffers of [false, true]) {
      const image = await mkfs([tree, tarPath], { blockSize: 1024, seed: "reuse" });
      const hash = createHash("sha256");
      let bytes = 0;
      for await (const chunk of image.chunks({ reuseBuffers })) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      expect(bytes).toBe(image.size);
      digests.push(hash.digest("hex"));
    }
    expect(digests[1]).toBe(digests[0]);
  });
});

describe("mkfs round trip through debugfs", () => {
  it.each([
    [1024, 256],
    [4096, 128],
  ])(
    "%i-byte blocks, %i-byte inodes: rdump gives back the tree; stat shows owners, devices, links",
    async (bs, isz) => {
      if (!(await haveTool("debugfs", "e2fsprogs"))) return;
      const image = await mkfs([tree, tarPath], { blockSize: bs, inodeSize: isz, seed: "rt" });
      const img = join(work, `rt-${bs}.img`);
      await writeToFile(image.chunks(), img);
      const out = join(work, `out-${bs}`);
      await mkdir(out);
      const r = await execa("debugfs", ["-R", `rdump / ${out}`, img], { reject: false });
      expect(r.exitCode).toBe(0);
      expect(compareTrees(tree, out)).toEqual([]);
      expect(readFileSync(join(out, "hard/a"), "utf8")).toBe("replaced\n");
      expect(readFileSync(join(out, "implicit/parent/file"), "utf8")).toBe("x");

      const m4755 = await stat(img, "/modes/m4755");
      expect(m4755).toMatch(/Mode: +04755/);
      expect(await stat(img, "/modes/m6711")).toMatch(/Mode: +06711/);
      expect(await stat(img, "/modes/sticky-dir")).toMatch(/Type: directory +Mode: +01777/);
      const devNull = await stat(img, "/dev/null");
      expect(devNull).toMatch(/Type: character special +Mode: +0666/);
      expect(devNull).toMatch(/Device major\/minor number: 01:03/);
      expect(await stat(img, "/dev/sda1")).toMatch(
        /Type: block special[\s\S]*Group: +6[\s\S]*major\/minor number: 08:01/,
      );
      expect(await stat(img, "/dev/big")).toMatch(/major\/minor number: 300:70000/);
      expect(await stat(img, "/fifo")).toMatch(/Type: FIFO/);
      if (existsSync(join(tree, "socket")))
        expect(await stat(img, "/socket")).toMatch(/Type: socket/);
      expect(await stat(img, "/dev/fifo")).toMatch(/Type: FIFO +Mode: +0644/);
      const owned = await stat(img, "/owned");
      expect(owned).toMatch(/User: +1000 +Group: +100 /);
      expect(owned).toMatch(/Links: 2/); // tar hard link "tar-link"
      expect(await stat(img, "/owned-big-ids")).toMatch(/User: +70000 +Group: +80000 /);
      // Three directory entries shared an inode; the tar replaced one of them.
      expect(await stat(img, "/hard-c")).toMatch(/Links: 2/);
      expect(await stat(img, "/links/hard-b")).toMatch(/Links: 2/);
      expect(await stat(img, "/hard/a")).toMatch(/User: +5 +Group: +6 [\s\S]*Links: 1/);
      const ls = await execa("debugfs", ["-R", "ls -l /links", img], { reject: false });
      const inodeOf = (name: string) =>
        new RegExp(`^\\s*(\\d+) .* ${name}\\s*$`, "m").exec(ls.stdout)?.[1];
      const hardC = await execa("debugfs", ["-R", "ls -l /", img], { reject: false });
      expect(new RegExp(`^\\s*${inodeOf("hard-b")} .* hard-c\\s*$`, "m").test(hardC.stdout)).toBe(
        true,
      );
      const tind = await stat(img, "/sparse-tind");
      if (bs === 1024) expect(tind).toMatch(/\(TIND\)/);
      if (isz === 256) expect(await stat(img, "/modes/m777")).toMatch(/mtime: 0x386d4380:(\w+)/);
    },
  );
});
