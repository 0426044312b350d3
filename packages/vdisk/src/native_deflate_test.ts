// qcow2's compressed clusters through the system's zlib (native/deflate.c):
// the bytes Python's zlib module (the system's libz, as qemu-img's) makes with
// QEMU's settings, qemu-img's file size, and the writer's handling of a codec
// that answers later and out of order.
import { execFileSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeWithTools } from "../../../test/harness/tools.ts";
import { nodeCodecs, qcow2DeflateLibrary } from "./_node_zlib.ts";
import {
  convertFile,
  qemuImg,
  rng,
  scatteredImage,
  scratchDir,
  testBytes,
  toMemory,
} from "./_test_tools.ts";
import { MemorySink } from "./image_sink.ts";
import { writeQcow2 } from "./qcow2_writer.ts";

const { dir, cleanup } = scratchDir("vdisk-deflate-");
afterAll(cleanup);

// Built by `pnpm build` when zlib.h is there (Debian zlib1g-dev, which CI
// installs: test/scripts/setup-system-deps.sh); in CI its absence fails.
const library = qcow2DeflateLibrary();
const native = library.startsWith("system zlib");
if (!native && !process.env.CI) {
  console.warn(
    `vdisk: NATIVE ZLIB ADDON NOT BUILT (${library}) — the system-zlib tests are skipped: install zlib1g-dev and gcc (Debian) and run pnpm --filter @bigfile/vdisk build`,
  );
}

const deflate = nodeCodecs.qcow2Deflate as (data: Uint8Array) => Promise<Uint8Array>;

describe("qcow2 deflate through the system's zlib", () => {
  it("is there (in CI it must be)", () => {
    if (process.env.CI) expect(library).toMatch(/^system zlib \d/);
  });

  it.runIf(native)(
    "gives the bytes of the system's zlib with QEMU's settings (Python's zlib as the oracle)",
    {
      timeout: 60_000,
    },
    async () => {
      const random = rng(5);
      const clusters = [
        testBytes(random, 65536),
        new Uint8Array(65536).fill(7),
        Uint8Array.from({ length: 65536 }, (_, i) => (i * 31) & 0xff),
        testBytes(random, 4096),
      ];
      const input = join(dir, "clusters.bin");
      writeFileSync(input, Buffer.concat(clusters));
      const lengths = clusters.map((c) => c.length).join(",");
      // QEMU's qcow2 compress: deflateInit2(level default, DEFLATED, -12, memLevel 9, default strategy).
      const script = `import sys, zlib
data = open(sys.argv[1], "rb").read()
at = 0
for n in map(int, sys.argv[2].split(",")):
    c = zlib.compressobj(-1, zlib.DEFLATED, -12, 9)
    sys.stdout.write((c.compress(data[at:at + n]) + c.flush()).hex() + "\\n")
    at += n
`;
      const expected = execFileSync("python3", ["-c", script, input, lengths], { encoding: "utf8" })
        .trim()
        .split("\n");
      const got = await Promise.all(clusters.map((c) => deflate(c)));
      expect(got.map((g) => Buffer.from(g).toString("hex"))).toEqual(expected);
    },
  );

  it.runIf(native)(
    "hands back the cluster itself when the stream would not be shorter",
    async () => {
      const noise = Uint8Array.from({ length: 65536 }, () => (Math.random() * 256) | 0);
      expect(await deflate(noise)).toBe(noise);
    },
  );
});

describe("writeQcow2 with a codec that answers later", () => {
  const raw = testBytes(rng(9), 3 << 20);
  raw.fill(0, 1 << 20, 2 << 20); // a hole of zero clusters
  // Not deflate: half the cluster's length of its first byte, for the order only.
  const sync = (data: Uint8Array) => new Uint8Array(data.length / 2).fill(data[0] as number);

  it("stores the clusters in guest order however the answers come", async () => {
    const expected = await toMemory(raw, "qcow2", {
      compress: true,
      codecs: { qcow2Deflate: sync },
    });
    // Answers after random delays: later clusters often settle first.
    const random = rng(3);
    const late = (data: Uint8Array) =>
      new Promise<Uint8Array>((resolve) =>
        setTimeout(() => resolve(sync(data)), Math.floor(random() * 5)),
      );
    const got = await toMemory(raw, "qcow2", { compress: true, codecs: { qcow2Deflate: late } });
    expect(Buffer.compare(got, expected)).toBe(0);
  });

  it("fails with the codec's error, once, and no unhandled rejection", async () => {
    let calls = 0;
    const failing = (data: Uint8Array) => {
      calls++;
      return calls === 3
        ? Promise.reject(new Error("deflate failed on cluster 3"))
        : Promise.resolve(sync(data));
    };
    const sink = new MemorySink();
    const image = { size: raw.length, data: [raw] as unknown as AsyncIterable<Uint8Array> };
    await expect(
      writeQcow2(image, sink, { compress: true, codecs: { qcow2Deflate: failing } }),
    ).rejects.toThrow(/^deflate failed on cluster 3$/);
  });
});

describeWithTools(["qemu-img"], "qcow2 -c: qemu-img's size", () => {
  it.runIf(native)(
    "a disk with scattered data takes qemu-img's clusters exactly (same image end); check clean, compare identical",
    {
      timeout: 120_000,
    },
    async () => {
      const raw = scatteredImage(join(dir, "scattered.raw"), 300 << 20, 60, 11);
      const ours = join(dir, "ours.qcow2");
      const theirs = join(dir, "theirs.qcow2");
      await convertFile(raw, "qcow2", ours, { compress: true });
      const made = await qemuImg("convert", "-f", "raw", "-O", "qcow2", "-c", raw, theirs);
      expect(made.exitCode, made.stderr).toBe(0);
      // The same streams packed the same way: qemu-img check's "Image end
      // offset" is the same. qemu-img's file then ends at its last byte of data
      // (its tables come first); ours ends with its tables, after that whole cluster.
      const check = await qemuImg("check", ours);
      expect(check.exitCode, check.stdout).toBe(0);
      const end = (output: string) => /Image end offset: (\d+)/.exec(output)?.[1];
      expect(end(check.stdout)).toBe(end((await qemuImg("check", theirs)).stdout));
      expect(Math.abs(statSync(ours).size - statSync(theirs).size)).toBeLessThan(65536);
      const cmp = await qemuImg("compare", "-f", "raw", "-F", "qcow2", raw, ours);
      expect(cmp.exitCode, cmp.stdout).toBe(0);
    },
  );
});
