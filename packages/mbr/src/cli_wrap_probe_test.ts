// `mbr wrap` from a pipe learns the partition's size from the filesystem's own header:
// through main(args, io) with hand-made and mke2fs-made images, then through real pipes
// (the built bin, execa) checked with sfdisk.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { describeWithTools } from "../../../test/harness/tools.ts";
import { readAt, scratchDir, sparseFile } from "./_test_tools.ts";
import { main } from "./cli.ts";
import { readPartitions } from "./read_partitions.ts";

const { dir, cleanup } = scratchDir("mbr-wrap-probe-");
afterAll(cleanup);
const bin = resolve(import.meta.dirname, "../bin/mbr.js");
const MiB = 1 << 20;
const CYLINDER = 16065 * 512;

async function run(args: string[], stdin: Uint8Array) {
  const io = memoryIo({ stdin });
  const code = await main(args, io);
  return { code, bytes: io.stdoutBytes(), err: io.stderrText() };
}

/** A swap area as mkswap lays it out (4 KiB pages, little-endian), `pages` long, filled with 0x5a after the header. */
function swapArea(pages: number, streamPages = pages): Uint8Array {
  const bytes = new Uint8Array(streamPages * 4096).fill(0x5a, 4096);
  bytes.fill(0, 0, 4096);
  const view = new DataView(bytes.buffer);
  view.setUint32(1024, 1, true); // version
  view.setUint32(1028, pages - 1, true); // last_page
  bytes.set(new TextEncoder().encode("SWAPSPACE2"), 4096 - 10);
  return bytes;
}

function oneLine(err: string): void {
  expect(err).toMatch(/^mbr: [^\n]+\n$/);
}

describe("mbr wrap from a pipe: the size from the filesystem's header", () => {
  it("sizes the partition from a swap header and passes the bytes through", async () => {
    const area = swapArea(300);
    const r = await run(["wrap", "--label-id", "0x1", "--type", "82"], area);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const table = await readPartitions(r.bytes);
    expect(table.partitions[0]).toMatchObject({
      start: 2048,
      size: (300 * 4096) / 512,
      type: 0x82,
    });
    expect(r.bytes.length).toBe(3 * MiB); // a 1 MiB gap, 1.17 MiB, zeros to the next MiB
    expect(Buffer.from(r.bytes.subarray(MiB, MiB + area.length)).equals(area)).toBe(true);
    expect(r.bytes.subarray(MiB + area.length).every((b) => b === 0)).toBe(true);
  });

  it("refuses an unrecognised head with one line naming --partition-size (exit 2)", async () => {
    const noise = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 131 + (i >> 9)) & 0xff);
    const r = await run(["wrap"], noise);
    expect(r.code).toBe(2);
    oneLine(r.err);
    expect(r.err).toMatch(/cannot tell the partition's size from a pipe: no ext2\/3\/4, swap, FAT/);
    expect(r.err).toMatch(/give --partition-size SIZE/);
    expect(r.bytes.length).toBe(0);
    // The flag it names does the job; so does --disk-size.
    expect((await run(["wrap", "--partition-size", "200000"], noise)).code).toBe(0);
    expect((await run(["wrap", "--disk-size", "4M"], noise)).code).toBe(0);
  });

  it("refuses a stream longer than its header states, with one line", async () => {
    const r = await run(["wrap"], swapArea(10, 12));
    expect(r.code).toBe(1);
    oneLine(r.err);
    expect(r.err).toBe(
      "mbr: the partition image goes on past the 40960 bytes of its swap area (as its header states); give --partition-size SIZE to wrap all of it\n",
    );
    // Given the stream's length, it is wrapped whole.
    expect(
      (await run(["wrap", "--partition-size", String(12 * 4096)], swapArea(10, 12))).code,
    ).toBe(0);
  });

  it("refuses, before writing anything, a filesystem larger than the partition it would get", async () => {
    const part = await run(["wrap", "--partition-size", "100K"], swapArea(100));
    expect(part.code).toBe(1);
    oneLine(part.err);
    expect(part.err).toMatch(
      /the swap area in the partition image is 409600 bytes \(as its header states\), more than the 102400-byte partition --partition-size 102400 gives it; nothing was written/,
    );
    expect(part.bytes.length).toBe(0);
    const disk = await run(["wrap", "--align", "cylinder", "--disk-size", "8M"], swapArea(2100));
    expect(disk.code).toBe(1);
    oneLine(disk.err);
    expect(disk.err).toMatch(/more than the \d+-byte partition that fits on the 8388608-byte disk/);
    expect(disk.bytes.length).toBe(0);
  });

  it("refuses an empty stream and a head whose headers disagree", async () => {
    const empty = await run(["wrap"], new Uint8Array(0));
    expect(empty.code).toBe(1);
    expect(empty.err).toBe("mbr: the partition image is empty: nothing to wrap\n");
    // An ext2 superblock whose first fields also read as a swap header of another size.
    const both = swapArea(25);
    const sb = new DataView(both.buffer, 1024);
    sb.setUint32(20, 1, true);
    sb.setUint32(32, 24, true);
    sb.setUint32(36, 24, true);
    sb.setUint32(40, 1, true);
    sb.setUint16(56, 0xef53, true);
    const r = await run(["wrap"], both);
    expect(r.code).toBe(1);
    oneLine(r.err);
    expect(r.err).toMatch(
      /two headers that disagree, ext2 .* and swap .*; give --partition-size SIZE/,
    );
    expect((await run(["wrap", "--partition-size", String(both.length)], both)).code).toBe(0);
  });
});

describeWithTools(["mke2fs"], "mbr wrap from a pipe: mke2fs images through main()", () => {
  for (const [type, blockSize, blocks] of [
    ["ext2", 1024, 3001],
    ["ext3", 4096, 3000],
    ["ext4", 1024, 5000],
  ] as const) {
    it(`${type}, ${blocks} blocks of ${blockSize}: partition 1 at sector 63 as long as the filesystem`, async () => {
      const path = sparseFile(join(dir, `${type}.img`), 32 * MiB);
      await execa("mke2fs", [
        "-q",
        "-F",
        "-t",
        type,
        "-b",
        String(blockSize),
        path,
        String(blocks),
      ]);
      const fs = readFileSync(path).subarray(0, blocks * blockSize);
      const r = await run(
        ["wrap", "--align", "cylinder", "--bootable", "--label-id", "0x5eed"],
        fs,
      );
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const table = await readPartitions(r.bytes);
      expect(table.partitions[0]).toMatchObject({
        start: 63,
        size: (blocks * blockSize) / 512,
        bootable: true,
      });
      expect(r.bytes.length).toBe(Math.ceil((63 * 512 + fs.length) / CYLINDER) * CYLINDER);
      expect(Buffer.from(r.bytes.subarray(32256, 32256 + fs.length)).equals(fs)).toBe(true);
      // The whole file (zeros past the filesystem's end) is longer than the superblock says.
      const whole = await run(["wrap"], readFileSync(path));
      expect(whole.code).toBe(1);
      expect(whole.err).toBe(
        `mbr: the partition image goes on past the ${blocks * blockSize} bytes of its ${type} filesystem (as its superblock states); give --partition-size SIZE to wrap all of it\n`,
      );
    });
  }
});

describeWithTools(
  ["mke2fs", "sfdisk", "bash"],
  "mbr wrap through real pipes (the built bin)",
  () => {
    it("mke2fs image | mbr wrap --align cylinder --bootable > file: sfdisk agrees", async () => {
      const blocks = 20001; // 1-KiB blocks: 40002 sectors
      const fs = sparseFile(join(dir, "pipe.ext3"), blocks * 1024);
      await execa("mke2fs", ["-q", "-F", "-t", "ext3", "-b", "1024", fs, String(blocks)]);
      const disk = join(dir, "pipe-disk.img");
      const r = await execa("cat", [fs]).pipe(
        "node",
        [bin, "wrap", "--align", "cylinder", "--bootable"],
        {
          stdout: { file: disk },
          reject: false,
        },
      );
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      const { partitiontable } = JSON.parse((await execa("sfdisk", ["--json", disk])).stdout);
      expect(partitiontable.partitions).toEqual([
        {
          node: `${disk}1`,
          start: 63,
          size: Math.ceil((blocks * 1024) / 512),
          type: "83",
          bootable: true,
        },
      ]);
      const size = readFileSync(disk).length;
      expect(size % CYLINDER).toBe(0);
      expect(size).toBe(Math.ceil((63 * 512 + blocks * 1024) / CYLINDER) * CYLINDER);
      expect(
        Buffer.from(readAt(disk, 32256 + 1024, 1024)).equals(Buffer.from(readAt(fs, 1024, 1024))),
      ).toBe(true);
    });

    it("refuses an unrecognised head and a stream longer than its superblock, in one line each", async () => {
      const noise = await execa(
        "bash",
        ["-c", `head -c 300000 /dev/urandom | node ${bin} wrap > /dev/null`],
        {
          reject: false,
        },
      );
      expect(noise.exitCode).toBe(2);
      oneLine(`${noise.stderr}\n`);
      expect(noise.stderr).toMatch(/--partition-size SIZE/);
      const fs = sparseFile(join(dir, "short.ext2"), 8 * MiB);
      await execa("mke2fs", ["-q", "-F", "-t", "ext2", "-b", "1024", fs, "4096"]);
      const longer = await execa("bash", ["-c", `cat ${fs} | node ${bin} wrap > /dev/null`], {
        reject: false,
      });
      expect(longer.exitCode).toBe(1);
      expect(longer.stderr).toBe(
        "mbr: the partition image goes on past the 4194304 bytes of its ext2 filesystem (as its superblock states); give --partition-size SIZE to wrap all of it",
      );
    });

    it("reads a named pipe (<(...)) as a stream: wrap, print and extract", async () => {
      const fs = sparseFile(join(dir, "named.ext4"), 3 * MiB);
      await execa("mke2fs", ["-q", "-F", "-t", "ext4", fs]);
      const disk = join(dir, "named-disk.img");
      const wrap = await execa("bash", ["-c", `node ${bin} wrap <(cat ${fs}) -o ${disk}`], {
        reject: false,
      });
      expect(wrap.stderr).toBe("");
      expect(wrap.exitCode).toBe(0);
      const { partitiontable } = JSON.parse((await execa("sfdisk", ["--json", disk])).stdout);
      expect(partitiontable.partitions[0]).toMatchObject({ start: 2048, size: (3 * MiB) / 512 });
      const print = await execa("bash", ["-c", `node ${bin} print --json <(cat ${disk})`]);
      expect(JSON.parse(print.stdout).partitiontable.partitions[0]).toMatchObject({ start: 2048 });
      const extract = await execa(
        "bash",
        ["-c", `node ${bin} extract 1 <(cat ${disk}) | cmp - ${fs}`],
        {
          reject: false,
        },
      );
      expect(extract.stderr).toBe("");
      expect(extract.exitCode).toBe(0);
    });
  },
);
