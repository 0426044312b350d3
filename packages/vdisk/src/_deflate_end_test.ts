import { constants, deflateRawSync, deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { deflateStreamLength } from "./_deflate_end.ts";
import { rng, testBytes } from "./_test_tools.ts";

// zlib (Node's) is the oracle: every stream it writes ends where it says.
describe("deflateStreamLength", () => {
  const inputs: [string, Uint8Array][] = [
    ["mixed data", testBytes(rng(5), 65536)],
    ["random bytes", testBytes(rng(6), 70000).map((b, i) => (b * 13 + i * 7) & 0xff)],
    ["one repeated byte", new Uint8Array(65536).fill(0x41)],
    ["nothing", new Uint8Array(0)],
  ];
  const settings: [string, object][] = [
    ["level 0 (stored blocks)", { level: 0 }],
    ["level 1", { level: 1 }],
    ["level 6, 4 KiB window (qcow2)", { level: 6, windowBits: 12 }],
    ["level 9", { level: 9 }],
    ["fixed codes", { strategy: constants.Z_FIXED }],
    ["huffman only", { strategy: constants.Z_HUFFMAN_ONLY }],
    ["run-length", { strategy: constants.Z_RLE }],
  ];
  for (const [what, bytes] of inputs) {
    for (const [how, options] of settings) {
      it(`${what}, ${how}: the stream's exact length, whatever follows it`, () => {
        const stream = new Uint8Array(deflateRawSync(bytes, options));
        expect(deflateStreamLength(stream)).toBe(stream.length);
        const padded = new Uint8Array(stream.length + 600).fill(0xa5);
        padded.set(stream);
        expect(deflateStreamLength(padded)).toBe(stream.length);
        expect(deflateStreamLength(stream.subarray(0, stream.length - 1))).toBeUndefined();
      });
    }
  }

  it("inside a zlib stream (after its 2-byte header)", () => {
    const zlib = new Uint8Array(deflateSync(testBytes(rng(7), 65536)));
    expect(deflateStreamLength(zlib, 2)).toBe(zlib.length - 6); // less the header and Adler-32
  });

  it("mutated streams: an answer inside the bytes or none, never a throw or a hang", () => {
    const stream = new Uint8Array(deflateRawSync(testBytes(rng(8), 65536)));
    const random = rng(9);
    for (let round = 0; round < 500; round++) {
      const bytes = stream.slice(0, 1 + Math.floor(random() * stream.length));
      for (let n = 1 + Math.floor(random() * 4); n > 0; n--) {
        bytes[Math.floor(random() * bytes.length)] = (random() * 256) | 0;
      }
      const length = deflateStreamLength(bytes);
      if (length !== undefined) expect(length).toBeLessThanOrEqual(bytes.length);
    }
  });
});
