// The core's codecs (the Web's DecompressionStream/CompressionStream) against
// Node's zlib and qemu-img: images qemu-img compresses read to the same bytes
// through both, and what the Web codecs write qemu-img reads as the raw disk.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryDevice } from "@bigfile/blockdev";
import { FileDevice } from "@bigfile/blockdev/node";
import { afterAll, describe, expect, it } from "vitest";
import { describeWithTools } from "../../../test/harness/tools.ts";
import { nodeCodecs } from "./_node_zlib.ts";
import { imageEqualsRaw, qemuImg, rng, scratchDir, testBytes } from "./_test_tools.ts";
import { webCodecs } from "./codecs.ts";
import { writeImageFile } from "./file_sink.ts";
import { MemorySink } from "./image_sink.ts";
import { openImage } from "./open_image.ts";
import { writeQcow2 } from "./qcow2_writer.ts";
import { rawFileImage } from "./raw_file_image.ts";
import { writeImage } from "./write_image.ts";

const { dir, cleanup } = scratchDir("vdisk-codecs-");
afterAll(cleanup);

/** Every byte of the disk in `image`, read through `codecs` (undefined: the core's defaults). */
async function diskBytes(image: string, codecs?: typeof nodeCodecs): Promise<Uint8Array> {
  const file = await FileDevice.open(image, { readOnly: true });
  const disk = await openImage(file, codecs ? { codecs } : {});
  try {
    return await disk.read(0, disk.size);
  } finally {
    await disk.close();
  }
}

describeWithTools(
  ["qemu-img"],
  "the core's DecompressionStream reads what qemu-img compresses",
  () => {
    const raw = join(dir, "disk.raw");
    const size = 6 << 20;
    const bytes = new Uint8Array(size);
    bytes.set(testBytes(rng(31), 2 << 20), 512 << 10);
    bytes.set(new TextEncoder().encode("bigfile\n".repeat(40000)), 3 << 20);
    writeFileSync(raw, bytes);

    const cases: [string, string[]][] = [
      ["qcow2 (qemu-img convert -c)", ["-O", "qcow2", "-c"]],
      ["qcow2 with 4 KiB clusters (-c)", ["-O", "qcow2", "-c", "-o", "cluster_size=4096"]],
      ["VMDK streamOptimized", ["-O", "vmdk", "-o", "subformat=streamOptimized"]],
    ];
    for (const [what, args] of cases) {
      it(`${what}: the same bytes as through node:zlib, and as the raw disk`, async () => {
        const image = join(dir, `${what.replace(/\W+/g, "-")}.img`);
        const made = await qemuImg("convert", "-f", "raw", ...args, raw, image);
        expect(made.exitCode, made.stderr).toBe(0);
        const viaWeb = await diskBytes(image);
        const viaNode = await diskBytes(image, nodeCodecs);
        expect(viaWeb.length).toBe(size);
        expect(Buffer.from(viaWeb).equals(Buffer.from(viaNode))).toBe(true);
        expect(Buffer.from(viaWeb).equals(Buffer.from(bytes))).toBe(true);
        expect(await imageEqualsRaw(image, raw, webCodecs)).toBe(true);
      });
    }

    it("a streamOptimized VMDK compressed by CompressionStream: qemu-img compare finds it identical", async () => {
      const out = join(dir, "web.vmdk");
      await writeImageFile(out, (sink) =>
        writeImage(rawFileImage(raw), "vmdk-stream", sink, { codecs: webCodecs }),
      );
      const check = await qemuImg("check", "-f", "vmdk", out);
      expect(check.exitCode, check.stderr + check.stdout).toBe(0);
      const compare = await qemuImg("compare", "-f", "raw", "-F", "vmdk", raw, out);
      expect(compare.stdout).toMatch(/Images are identical/);
    });
  },
);

describe("the Web codecs", () => {
  it("refuse a corrupt or oversized grain with undefined, never a throw", async () => {
    const grain = new Uint8Array(await nodeCodecs.zlibDeflate(new Uint8Array(65536).fill(9)));
    expect(await webCodecs.zlibInflate(grain, 65536)).toEqual(new Uint8Array(65536).fill(9));
    expect(await webCodecs.zlibInflate(grain, 65535)).toBeUndefined();
    expect(await webCodecs.zlibInflate(grain.subarray(0, grain.length - 3), 65536)).toBeUndefined();
    const broken = grain.slice();
    broken[1] = (broken[1] as number) ^ 0xff; // the zlib header's check bits
    expect(await webCodecs.zlibInflate(broken, 65536)).toBeUndefined();
    expect(await webCodecs.qcow2Inflate(new Uint8Array([0xff, 0xff, 0xff]), 512)).toBeUndefined();
  });

  it("inflate a qcow2 cluster followed by the next one's bytes (clusters are packed)", async () => {
    const cluster = testBytes(rng(32), 65536);
    const packed = new Uint8Array(
      await (nodeCodecs.qcow2Deflate as (d: Uint8Array) => Uint8Array)(cluster),
    );
    const followed = new Uint8Array(packed.length + 511).fill(0x78);
    followed.set(packed);
    expect(await webCodecs.qcow2Inflate(followed, 65536)).toEqual(cluster);
  });

  it('say what to do where DecompressionStream lacks "deflate-raw" (Node before 20.12)', async () => {
    const real = globalThis.DecompressionStream;
    class Older extends real {
      constructor(format: ConstructorParameters<typeof real>[0]) {
        if (format === "deflate-raw") throw new TypeError(`unknown format ${format}`);
        super(format);
      }
    }
    globalThis.DecompressionStream = Older;
    try {
      const packed = await (nodeCodecs.qcow2Deflate as (d: Uint8Array) => Uint8Array)(
        new Uint8Array(4096).fill(1),
      );
      expect(() => webCodecs.qcow2Inflate(packed, 4096)).toThrow(
        /^Cannot inflate: this runtime's DecompressionStream has no "deflate-raw" \(Node >= 20\.12 has\); pass codecs/,
      );
    } finally {
      globalThis.DecompressionStream = real;
    }
  });

  it("have no qcow2 deflate: compressed qcow2 without codecs is refused before writing", async () => {
    const sink = new MemorySink();
    const image = {
      size: 1 << 20,
      data: [new Uint8Array(1 << 20)] as unknown as AsyncIterable<Uint8Array>,
    };
    await expect(writeQcow2(image, sink, { compress: true })).rejects.toThrow(
      /^Cannot write compressed qcow2: no deflate with a 4 KiB window was given/,
    );
    expect(sink.bytes().length).toBe(0);
    await expect(writeQcow2(image, sink, { compress: "zstd" })).rejects.toThrow(
      /^Cannot write zstd-compressed qcow2: no zstd codec was given/,
    );
  });

  it("have no zstd: a zstd cluster read through them is one clear error", async () => {
    // A qcow2 header flags zstd; the reader refuses when a compressed cluster is read.
    const sink = new MemorySink();
    const raw = testBytes(rng(33), 1 << 20);
    await writeQcow2(
      { size: raw.length, data: [raw] as unknown as AsyncIterable<Uint8Array> },
      sink,
      {
        compress: "zlib",
        codecs: nodeCodecs,
      },
    );
    const file = sink.bytes().slice();
    const view = new DataView(file.buffer);
    view.setUint32(76, view.getUint32(76) | 8);
    file[104] = 1;
    const disk = await openImage(new MemoryDevice(file, { readOnly: true }));
    await expect(disk.read(0, 512)).rejects.toThrow(
      /^Cannot read qcow2 image: guest cluster 0 is zstd-compressed, and no zstd codec was given/,
    );
  });
});
