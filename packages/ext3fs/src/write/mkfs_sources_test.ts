import { link, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileDevice, readFile, writeToFile } from "@bigfile/blockdev/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { fsckProblems } from "./_fsck_test_util.ts";
import { patternBytes } from "./_test_tree.ts";
import { mkfs, writeImageToDevice } from "./mkfs.ts";

let work = "";
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ext3fs-src-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("mkfs sources and sinks", () => {
  it("reads GNU tar and pax archives (long names, long links, hard links) made by tar", async () => {
    if (!(await haveTool("tar", "tar")) || !(await haveTool("debugfs", "e2fsprogs"))) return;
    const src = join(work, "gnu");
    const deepName = `${"long-directory-name-".repeat(6)}x`;
    await mkdir(join(src, deepName), { recursive: true });
    const longFile = join(src, deepName, `${"f".repeat(200)}.txt`);
    await writeFile(longFile, patternBytes(70000, 4));
    await symlink("t".repeat(150), join(src, "long-link"));
    await link(longFile, join(src, "hard"));
    for (const format of ["gnu", "posix"]) {
      const tarFile = join(work, `${format}.tar`);
      const t = await execa("tar", ["-C", src, `--format=${format}`, "-cf", tarFile, "."], {
        reject: false,
      });
      expect(t.exitCode, t.stderr).toBe(0);
      const image = await mkfs([{ kind: "tar-stream", stream: readFile(tarFile), label: format }], {
        seed: format,
      });
      const img = join(work, `${format}.img`);
      await writeToFile(image.chunks(), img);
      const f = await fsckProblems(img);
      expect(f.problems, f.output).toEqual([]);
      const out = join(work, `${format}-out`);
      await mkdir(out);
      await execa("debugfs", ["-R", `rdump / ${out}`, img]);
      const back = await import("node:fs").then((fs) =>
        fs.readFileSync(join(out, deepName, `${"f".repeat(200)}.txt`)),
      );
      expect(Buffer.compare(back, Buffer.from(patternBytes(70000, 4)))).toBe(0);
      const stat = await execa("debugfs", ["-R", "stat /hard", img]);
      expect(stat.stdout).toMatch(/Links: 2/);
      const l = await execa("debugfs", ["-R", "stat /long-link", img]);
      expect(l.stdout).toMatch(/Type: symlink/);
      expect(l.stdout).toMatch(/Size: 150/);
    }
  });

  it("keeps names that are not UTF-8 byte for byte (files and directories)", async () => {
    if (!(await haveTool("debugfs", "e2fsprogs"))) return;
    const src = join(work, "bytes");
    await mkdir(src);
    const fs = await import("node:fs");
    const dirName = Buffer.from([0x64, 0xe9, 0x6a, 0xe0]); // "déjà" in Latin-1
    const dirPath = Buffer.concat([Buffer.from(`${src}/`), dirName]);
    fs.mkdirSync(dirPath);
    fs.writeFileSync(Buffer.concat([dirPath, Buffer.from("/f\xff")]), "inside\n");
    const image = await mkfs([src], { seed: "bytes" });
    const img = join(work, "bytes.img");
    await writeToFile(image.chunks(), img);
    const f = await fsckProblems(img);
    expect(f.problems, f.output).toEqual([]);
    const ls = await execa("debugfs", ["-R", "ls -p /", img], {
      encoding: "buffer",
      reject: false,
    });
    expect(
      Buffer.from(ls.stdout as Uint8Array).includes(
        Buffer.concat([Buffer.from("/"), dirName, Buffer.from("/")]),
      ),
    ).toBe(true);
    const out = join(work, "bytes-out");
    await mkdir(out);
    await execa("debugfs", ["-R", `rdump / ${out}`, img]);
    const back = fs.readFileSync(
      Buffer.concat([Buffer.from(`${out}/`), dirName, Buffer.from("/f\xff")]),
      "utf8",
    );
    expect(back).toBe("inside\n");
  });

  it("stores a sparse file over 4 GiB (i_size_high, holes kept, double indirect at 4 KiB)", async () => {
    if (!(await haveTool("debugfs", "e2fsprogs"))) return;
    const src = join(work, "huge");
    await mkdir(src);
    const fs = await import("node:fs");
    const size = 4 * 1024 ** 3 + 4096 + 5;
    const fd = fs.openSync(join(src, "huge"), "w");
    fs.writeSync(fd, patternBytes(100, 1), 0, 100, 0);
    fs.writeSync(fd, patternBytes(5000, 2), 0, 5000, size - 5000);
    fs.closeSync(fd);
    const image = await mkfs([src], { blockSize: 4096, size: 64 * 1024 * 1024, seed: "huge" });
    const img = join(work, "huge.img");
    await writeToFile(image.chunks(), img);
    const f = await fsckProblems(img);
    expect(f.problems, f.output).toEqual([]);
    const stat = await execa("debugfs", ["-R", "stat /huge", img]);
    expect(stat.stdout).toMatch(new RegExp(`Size: ${size}\\b`));
    // 1 data block at the start, 2 at the end (5000 bytes across a block boundary), and their map blocks.
    expect(stat.stdout).toMatch(/\(0\):\d+/);
    expect(stat.stdout).toMatch(/TOTAL: [3-9]\b/);
  }, 60_000);

  it("stores a fully sparse 10 GiB file without reading it", async () => {
    if (!(await haveTool("debugfs", "e2fsprogs"))) return;
    const src = join(work, "allholes");
    await mkdir(src);
    const { truncate } = await import("node:fs/promises");
    await writeFile(join(src, "disk.raw"), "");
    await truncate(join(src, "disk.raw"), 10 * 1024 ** 3);
    const started = Date.now();
    const image = await mkfs([src], { blockSize: 4096, size: 32 * 1024 * 1024, seed: "holes" });
    expect(Date.now() - started).toBeLessThan(3000);
    const img = join(work, "allholes.img");
    await writeToFile(image.chunks(), img);
    const f = await fsckProblems(img);
    expect(f.problems, f.output).toEqual([]);
    const stat = await execa("debugfs", ["-R", "stat /disk.raw", img]);
    expect(stat.stdout).toMatch(/Size: 10737418240\b/);
    expect(stat.stdout).toMatch(/Blockcount: 0\b/);
  });

  it("writes into a block device at an offset (a partition inside a big file)", async () => {
    if (!(await haveTool("e2fsck", "e2fsprogs"))) return;
    const src = join(work, "small");
    await mkdir(src);
    await writeFile(join(src, "hello"), "hello\n");
    const disk = join(work, "disk.img");
    await writeFile(disk, "");
    const { truncate } = await import("node:fs/promises");
    await truncate(disk, 32256 + 8 * 1024 * 1024 + 4096);
    const dev = await FileDevice.open(disk);
    try {
      const image = await mkfs([src], { blocks: 8192, seed: "dev" });
      await writeImageToDevice(image, dev, 32256, { skipZeros: true });
    } finally {
      await dev.close();
    }
    const part = join(work, "part.img");
    await execa("dd", [
      `if=${disk}`,
      `of=${part}`,
      "bs=512",
      "skip=63",
      "count=16384",
      "status=none",
    ]);
    const f = await fsckProblems(part);
    expect(f.problems, f.output).toEqual([]);
    const cat = await execa("debugfs", ["-R", "cat /hello", part], { stripFinalNewline: false });
    expect(cat.stdout).toBe("hello\n");
    const tooSmall = await FileDevice.open(part);
    try {
      const image = await mkfs([src], { blocks: 8192, seed: "dev" });
      await expect(writeImageToDevice(image, tooSmall, 512)).rejects.toThrow(/device holds/);
    } finally {
      await tooSmall.close();
    }
  });
});
