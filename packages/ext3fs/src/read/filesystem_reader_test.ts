import { lstatSync } from "node:fs";
import { join } from "node:path";
import { FileDevice } from "@bigfile/blockdev/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTools } from "../../../../test/harness/tools.ts";
import { debugfs, isRoot, makeTree, mkfsFromTree, scratch } from "./_fixtures_test_util.ts";
import { describeImage, describeSource, expectSameTree } from "./_tree_test_util.ts";
import { checkFilesystem } from "./check_filesystem.ts";
import { ExtPathError } from "./errors.ts";
import { FilesystemReader } from "./filesystem_reader.ts";

const canRun = haveTools(["mke2fs", "debugfs"]);

describe.skipIf(!canRun)("FilesystemReader on mke2fs -d images", () => {
  const tmp = scratch();
  const tree = join(tmp.dir, "tree");
  let source: Map<string, Record<string, unknown>>;
  beforeAll(() => {
    makeTree(tree);
    source = describeSource(tree);
  });
  afterAll(() => tmp.cleanup());

  const cases = [
    { type: "ext2", blockSize: 1024 },
    { type: "ext2", blockSize: 4096 },
    { type: "ext3", blockSize: 1024 },
    { type: "ext3", blockSize: 4096, inodeSize: 128 },
    { type: "ext4", blockSize: 1024 },
    { type: "ext4", blockSize: 4096 },
  ] as const;
  for (const c of cases) {
    it(`reads back ${c.type} with ${c.blockSize}-byte blocks${"inodeSize" in c ? ` and ${c.inodeSize}-byte inodes` : ""}`, async () => {
      const image = join(tmp.dir, `${c.type}-${c.blockSize}.img`);
      await mkfsFromTree(image, tree, { ...c, size: "24M" });
      const device = await FileDevice.open(image, { readOnly: true });
      try {
        const fs = await FilesystemReader.open(device);
        expect(fs.blockSize).toBe(c.blockSize);
        expectSameTree(await describeImage(fs), source);
        expect(fs.journal?.needsRecovery ?? false).toBe(false);
        expect(fs.journal === undefined).toBe(c.type === "ext2");
        // Paths through symlinks, "..", and errors.
        expect(new TextDecoder().decode(await fs.readFile("/boot/host"))).toBe("bigfile\n");
        expect((await fs.stat("/boot/vmlinuz")).size).toBe(300_000);
        expect((await fs.lstat("/boot/vmlinuz")).type).toBe("symlink");
        expect((await fs.stat("/etc/deep/../deep/er/./still/medium")).size).toBe(13 * 1024 + 5);
        expect((await fs.readdir("/many")).length).toBe(200);
        await expect(fs.stat("/nope")).rejects.toBeInstanceOf(ExtPathError);
        await expect(fs.readdir("/empty")).rejects.toThrow(/not one/);
        await expect(fs.readFile("/etc")).rejects.toThrow(/is a directory/);
      } finally {
        await device.close();
      }
    });
  }

  it("reads nanoseconds and epoch bits of 256-byte inodes, and big device numbers", async () => {
    const image = join(tmp.dir, "ns.img");
    await mkfsFromTree(image, tree, { type: "ext4", blockSize: 4096, size: "24M" });
    // mke2fs -d drops nanoseconds: plant them with debugfs (ns << 2 | epoch bits).
    const set = await debugfs(image, `sif /empty mtime_extra ${(123456789 * 4 + 1) >>> 0}`, true);
    expect(set.exitCode).toBe(0);
    const device = await FileDevice.open(image, { readOnly: true });
    try {
      const fs = await FilesystemReader.open(device);
      const st = await fs.lstat("/empty");
      const src = lstatSync(join(tree, "empty"), { bigint: true });
      expect(st.mtime.seconds).toBe(Number(src.mtimeNs / 1_000_000_000n) + 2 ** 32);
      expect(st.mtime.nanoseconds).toBe(123456789);
      if (isRoot) expect((await fs.lstat("/bigdev")).rdev).toEqual({ major: 259, minor: 300000 });
    } finally {
      await device.close();
    }
  });

  it("streams with createReadStream, and ends symlink loops and directory cycles in clear errors", async () => {
    const image = join(tmp.dir, "cycles.img");
    await mkfsFromTree(image, tree, { type: "ext3", blockSize: 1024, size: "24M" });
    // A directory entry in /etc/deep naming /etc: a cycle; and two symlinks naming each other.
    expect((await debugfs(image, "ln /etc /etc/deep/back", true)).exitCode).toBe(0);
    expect((await debugfs(image, "symlink /loop1 /loop2", true)).exitCode).toBe(0);
    expect((await debugfs(image, "symlink /loop2 /loop1", true)).exitCode).toBe(0);
    const device = await FileDevice.open(image, { readOnly: true });
    try {
      const fs = await FilesystemReader.open(device);
      const streamed = new Uint8Array(
        await new Response(fs.createReadStream("/boot/vmlinuz")).arrayBuffer(),
      );
      expect(streamed).toEqual(await fs.readFile("/boot/vmlinuz-6.1"));
      await expect(fs.readFile("/loop1")).rejects.toThrow(/too many levels of symbolic links/);
      // The cycle is still a path: /etc/deep/back/deep/back/... resolves, but walking stops at it.
      expect((await fs.stat("/etc/deep/back/deep/back/hostname")).size).toBe(8);
      const errors: string[] = [];
      const paths: string[] = [];
      for await (const entry of fs.walk("/", {
        onError: (path, error) => errors.push(`${path}: ${error.message}`),
      })) {
        paths.push(entry.path);
      }
      expect(errors).toEqual([
        expect.stringMatching(/^\/etc\/deep\/back: .*already met \(a loop\)/),
      ]);
      expect(paths).toContain("/etc/deep/er/still/medium");
      await expect(async () => {
        for await (const _ of fs.walk("/")) {
          // no onError: the first problem throws
        }
      }).rejects.toThrow(/a loop/);
      const report = await checkFilesystem(fs);
      expect(report.findings.map((f) => f.code)).toContain("directory-parent");
    } finally {
      await device.close();
    }
  });
});
