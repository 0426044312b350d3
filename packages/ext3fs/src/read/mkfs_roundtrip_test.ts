import { join } from "node:path";
import { FileDevice } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTools } from "../../../../test/harness/tools.ts";
import { main } from "../cli.ts";
import { makeTree, mkfsFromTree, scratch } from "./_fixtures_test_util.ts";
import { describeImage, describeSource, expectSameTree } from "./_tree_test_util.ts";
import { checkFilesystem } from "./check_filesystem.ts";
import { FilesystemReader } from "./filesystem_reader.ts";

async function run(args: string[]) {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

async function readBack(image: string) {
  const device = await FileDevice.open(image, { readOnly: true });
  try {
    const fs = await FilesystemReader.open(device);
    const facts = await describeImage(fs);
    const report = await checkFilesystem(fs);
    return { facts, report, fs };
  } finally {
    await device.close();
  }
}

const canRun = haveTools(["mke2fs", "e2fsck"]);

describe.skipIf(!canRun)("reading what ext3fs mkfs writes", () => {
  const tmp = scratch("ext3fs-mkfs-read-");
  const tree = join(tmp.dir, "tree");
  let source: ReturnType<typeof describeSource>;
  beforeAll(() => {
    makeTree(tree);
    source = describeSource(tree);
  });
  afterAll(() => tmp.cleanup());

  for (const type of ["ext2", "ext3"] as const) {
    for (const blockSize of [1024, 4096]) {
      it(`reads back ${type} with ${blockSize}-byte blocks identically, and check agrees with e2fsck`, async () => {
        const image = join(tmp.dir, `mkfs-${type}-${blockSize}.img`);
        const made = await run([
          "mkfs",
          tree,
          "-t",
          type,
          "-b",
          String(blockSize),
          "--size",
          "24M",
          "-q",
          "-o",
          image,
        ]);
        expect(made.stderr).toBe("");
        expect(made.code).toBe(0);
        const { facts, report, fs } = await readBack(image);
        expect(fs.blockSize).toBe(blockSize);
        expect(fs.journal === undefined).toBe(type === "ext2");
        facts.delete("/lost+found");
        expectSameTree(facts, source);
        const e2fsck = await execa("e2fsck", ["-fn", image], { reject: false });
        expect(report.findings).toEqual([]);
        expect(e2fsck.exitCode).toBe(0);
      });
    }
  }

  it("round-trips a tree through extract --tar and mkfs from that tar", async () => {
    const ext4 = join(tmp.dir, "source-ext4.img");
    await mkfsFromTree(ext4, tree, { type: "ext4", blockSize: 4096, size: "24M" });
    const archive = join(tmp.dir, "tree.tar");
    expect((await run(["extract", ext4, "--tar", archive])).code).toBe(0);
    const image = join(tmp.dir, "from-tar.img");
    const made = await run(["mkfs", archive, "-t", "ext3", "--size", "24M", "-q", "-o", image]);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    const { facts, report } = await readBack(image);
    facts.delete("/lost+found");
    expectSameTree(facts, source);
    expect(report.findings).toEqual([]);
  });
});
