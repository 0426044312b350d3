// zstd-compressed qcow2: QEMU writes it (compression_type=zstd); Node has zstd
// only from 22.15. Where it has, images are read and written; where not, the
// reader and the command line refuse with one line naming the Node version.
import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileDevice } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { afterAll, describe, expect, it } from "vitest";
import { describeWithTools } from "../../../test/harness/tools.ts";
import { hasZstd, nodeCodecs } from "./_node_zlib.ts";
import { imageEqualsRaw, qemuImg, rng, scratchDir, testBytes } from "./_test_tools.ts";
import { zstdFrameLength } from "./_zstd_frame.ts";
import { main } from "./cli.ts";
import { UnsupportedImageError } from "./errors.ts";
import { openImage } from "./open_image.ts";

const { dir, cleanup } = scratchDir("vdisk-zstd-");
afterAll(cleanup);

describeWithTools(["zstd"], "zstdFrameLength: frames made by the zstd command", () => {
  const inputs: [string, Uint8Array][] = [
    ["mixed data", testBytes(rng(3), 65536)],
    ["one repeated byte (an RLE block)", new Uint8Array(65536).fill(0x5a)],
    ["random bytes (raw blocks)", testBytes(rng(4), 300_000).map((b, i) => (b * 7 + i) & 0xff)],
    ["nothing", new Uint8Array(0)],
  ];
  for (const [what, bytes] of inputs) {
    for (const flags of [["--check"], ["--no-check"], ["-19", "--no-check"]]) {
      it(`${what}, zstd ${flags.join(" ")}: the frame's exact length, padding ignored`, () => {
        const file = join(dir, "input");
        writeFileSync(file, bytes);
        const frame = new Uint8Array(execFileSync("zstd", ["-q", "-c", ...flags, file]));
        expect(zstdFrameLength(frame)).toBe(frame.length);
        const padded = new Uint8Array(frame.length + 700).fill(0xee);
        padded.set(frame);
        expect(zstdFrameLength(padded)).toBe(frame.length);
        // Cut short anywhere: not a frame.
        for (const cut of [0, 3, 5, frame.length - 1]) {
          if (cut >= 0 && cut < frame.length) {
            expect(zstdFrameLength(frame.subarray(0, cut))).toBeUndefined();
          }
        }
      });
    }
  }

  it("mutated frames: an answer inside the bytes or none, never a throw or a hang", () => {
    const file = join(dir, "fuzz-input");
    writeFileSync(file, testBytes(rng(21), 100_000));
    const frame = new Uint8Array(execFileSync("zstd", ["-q", "-c", file]));
    const random = rng(22);
    for (let round = 0; round < 3000; round++) {
      const bytes = frame.slice(0, 1 + Math.floor(random() * frame.length));
      for (let n = 1 + Math.floor(random() * 4); n > 0; n--) {
        bytes[Math.floor(random() * Math.min(bytes.length, 64))] = (random() * 256) | 0;
      }
      const length = zstdFrameLength(bytes);
      if (length !== undefined) expect(length).toBeLessThanOrEqual(bytes.length);
    }
  });

  it("bytes that are not a zstd frame", () => {
    expect(zstdFrameLength(new Uint8Array(64))).toBeUndefined();
    const reserved = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x08, 0, 0, 0, 0, 0]);
    expect(zstdFrameLength(reserved)).toBeUndefined();
  });
});

describeWithTools(["qemu-img"], "qcow2 with compression_type=zstd, made by qemu-img", () => {
  const raw = join(dir, "disk.raw");
  const size = 8 << 20;
  const bytes = new Uint8Array(size);
  bytes.set(testBytes(rng(11), 3 << 20), 1 << 20);
  writeFileSync(raw, bytes);
  const zstdQcow2 = join(dir, "zstd.qcow2");

  it("qemu-img writes it", async () => {
    const made = await qemuImg(
      "convert",
      "-f",
      "raw",
      "-O",
      "qcow2",
      "-o",
      "compression_type=zstd",
      "-c",
      raw,
      zstdQcow2,
    );
    expect(made.exitCode, made.stderr).toBe(0);
    const info = JSON.parse((await qemuImg("info", "--output=json", zstdQcow2)).stdout);
    expect(info["format-specific"].data["compression-type"]).toBe("zstd");
  });

  it("opens, and says what it is", async () => {
    const disk = await openImage(await FileDevice.open(zstdQcow2, { readOnly: true }));
    try {
      expect(disk.format).toBe("qcow2");
      expect(disk.size).toBe(size);
      expect((await disk.info()).details).toMatchObject({ compressionType: "zstd" });
    } finally {
      await disk.close();
    }
  });

  if (hasZstd()) {
    // Node >= 22.15 only: not run on Node 20.
    it("reads back as the raw disk", async () => {
      expect(await imageEqualsRaw(zstdQcow2, raw)).toBe(true);
    });
  } else {
    it(`this Node (${process.version}) has no zstd: reading a compressed cluster is one clear error`, async () => {
      const disk = await openImage(await FileDevice.open(zstdQcow2, { readOnly: true }), {
        codecs: nodeCodecs,
      });
      try {
        const error = await disk.read(1 << 20, 65536).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(UnsupportedImageError);
        expect((error as Error).message).toMatch(
          /zstd-compressed, and zstd needs Node >= 22\.15 \(node:zlib has no zstd in Node v\d+/,
        );
      } finally {
        await disk.close();
      }
      const io = memoryIo();
      const out = join(dir, "back.raw");
      expect(await main(["convert", "--to", "raw", zstdQcow2, out], io)).toBe(1);
      expect(io.stderrText()).toMatch(
        /^vdisk: cannot read qcow2 image: guest cluster \d+ is zstd-compressed, and zstd needs Node >= 22\.15 .*\n$/,
      );
      expect(io.stderrText().split("\n")).toHaveLength(2);
      expect(() => readFileSync(out)).toThrow(/ENOENT/);
    });
  }
});

describe("vdisk convert --compress", () => {
  const raw = join(dir, "small.raw");
  writeFileSync(raw, testBytes(rng(12), 1 << 20));

  it("-c, --compress and --compress zlib write zlib clusters", async () => {
    const plain = join(dir, "plain.qcow2");
    expect(await main(["convert", "--to", "qcow2", raw, plain], memoryIo())).toBe(0);
    const plainSize = statSync(plain).size;
    for (const flags of [["-c"], ["--compress", "zlib"], ["--compress"]]) {
      const out = join(dir, `zlib-${flags.join("")}.qcow2`);
      const args = ["convert", "--to", "qcow2", "-o", out, ...flags];
      // --compress without a type takes the next word: put it last.
      if (flags.length === 1 && flags[0] === "--compress") args.splice(3, 0, raw);
      else args.push(raw);
      const io = memoryIo();
      expect(await main(args, io), io.stderrText()).toBe(0);
      const head = readFileSync(out);
      expect(head.readUInt32BE(76) & 8).toBe(0); // no compression-type feature: zlib
      expect(head[104]).toBe(0);
      expect(statSync(out).size, flags.join(" ")).toBeLessThan(plainSize * 0.8);
      expect(await imageEqualsRaw(out, raw)).toBe(true);
    }
  });

  if (hasZstd()) {
    it("--compress zstd writes zstd clusters (Node >= 22.15)", async () => {
      const out = join(dir, "zstd-out.qcow2");
      expect(
        await main(["convert", "--to", "qcow2", "--compress", "zstd", raw, out], memoryIo()),
      ).toBe(0);
      const head = readFileSync(out);
      expect(head.readUInt32BE(76) & 8).toBe(8);
      expect(head[104]).toBe(1);
      expect(await imageEqualsRaw(out, raw)).toBe(true);
      const check = await qemuImg("check", "-f", "qcow2", out);
      expect(check.stdout).toMatch(/No errors were found/);
      const compare = await qemuImg("compare", "-f", "raw", "-F", "qcow2", raw, out);
      expect(compare.stdout).toMatch(/Images are identical/);
    });
  } else {
    it(`--compress zstd on Node ${process.version}: refused in one line, nothing written`, async () => {
      const out = join(dir, "zstd-refused.qcow2");
      const io = memoryIo();
      expect(await main(["convert", "--to", "qcow2", "--compress", "zstd", raw, out], io)).toBe(2);
      expect(io.stderrText()).toBe(
        `vdisk: --compress zstd: zstd needs Node >= 22.15 (node:zlib has no zstd in Node ${process.version}); use -c (zlib)\n`,
      );
      expect(() => readFileSync(out)).toThrow(/ENOENT/);
    });
  }

  it("an unknown compression type is a usage error", async () => {
    const io = memoryIo();
    expect(
      await main(["convert", "--to", "qcow2", "--compress", "lz4", raw, join(dir, "x")], io),
    ).toBe(2);
    expect(io.stderrText()).toMatch(/--compress.*lz4.*zlib, zstd/);
  });
});
