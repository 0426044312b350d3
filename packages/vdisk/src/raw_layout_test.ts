import { describe, expect, it } from "vitest";
import { readBack } from "./_test_tools.ts";
import { MemorySink } from "./image_sink.ts";
import { rawLayout } from "./raw_layout.ts";
import { writeImage } from "./write_image.ts";

async function* stream(bytes: Uint8Array, piece: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
}

describe("rawLayout", () => {
  it("places parts at their offsets with zeros between, for any writer", async () => {
    const head = new Uint8Array(512).fill(0x55);
    const fs = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    const size = 4 << 20;
    const expected = new Uint8Array(size);
    expected.set(head, 0);
    expected.set(fs, 32256);
    for (const format of ["qcow2", "vhd", "vmdk", "vmdk-stream"] as const) {
      const image = rawLayout(size, [
        { offset: 0, data: head },
        { offset: 32256, data: stream(fs, 65536), length: fs.length },
      ]);
      const sink = new MemorySink();
      await writeImage(image, format, sink);
      expect(Buffer.from(await readBack(sink.bytes())).equals(expected), format).toBe(true);
    }
  });

  it("refuses overlaps, overruns and short parts", async () => {
    expect(() =>
      rawLayout(1024, [
        { offset: 0, data: new Uint8Array(600) },
        { offset: 512, data: new Uint8Array(1) },
      ]),
    ).toThrow(/overlap/);
    expect(() => rawLayout(1024, [{ offset: 1000, data: new Uint8Array(600) }])).toThrow(
      /disk is 1024 bytes/,
    );
    const short = rawLayout(4096, [{ offset: 0, data: stream(new Uint8Array(10), 5), length: 20 }]);
    await expect(writeImage(short, "qcow2", new MemorySink())).rejects.toThrow(
      /ended after 10 bytes, expected 20/,
    );
  });
});
