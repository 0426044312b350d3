import { describe, expect, it } from "vitest";
import { ByteCountStream, measureLength } from "./byte_count_stream.ts";
import { ByteRangeStream } from "./byte_range_stream.ts";
import { collectBytes } from "./collect_bytes.ts";
import { concatStreams, iterableToStream } from "./concat_streams.ts";
import { ExactReader, UnexpectedEndError } from "./exact_reader.ts";
import { FixedChunkStream } from "./fixed_chunk_stream.ts";
import { isZero, isZeroRange, zeroStream, zeros } from "./zeros.ts";

function bytes(n: number, start = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
}

async function chunks(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

describe("FixedChunkStream", () => {
  it("re-blocks odd chunks into sectors, the last one short", async () => {
    const input = iterableToStream([bytes(100), bytes(700, 100), bytes(300, 800)]);
    const out = await chunks(input.pipeThrough(new FixedChunkStream(512)));
    expect(out.map((c) => c.length)).toEqual([512, 512, 76]);
    expect(await collectBytes(out)).toEqual(bytes(1100));
  });
  it("refuses a zero size", () => {
    expect(() => new FixedChunkStream(0)).toThrow(RangeError);
  });
});

describe("ExactReader", () => {
  it("reads exact counts across chunk borders and hands over the rest", async () => {
    const reader = new ExactReader(iterableToStream([bytes(3), bytes(10, 3)]));
    expect(await reader.readExactly(5)).toEqual(bytes(5));
    await reader.skip(2);
    expect(reader.position).toBe(7);
    expect(await collectBytes(reader.rest())).toEqual(bytes(6, 7));
    expect(await reader.atEnd()).toBe(true);
  });
  it("says where a stream ended too early", async () => {
    const reader = new ExactReader(iterableToStream([bytes(10)]));
    await reader.readExactly(8);
    await expect(reader.readExactly(4)).rejects.toThrow(UnexpectedEndError);
    await expect(new ExactReader(iterableToStream([bytes(10)])).readExactly(11)).rejects.toThrow(
      "Cannot read 11 bytes at offset 0: the stream ended after 10",
    );
  });
});

describe("concatStreams, ByteRangeStream, ByteCountStream", () => {
  it("concatenates lazily and in order", async () => {
    let opened = false;
    async function* late() {
      opened = true;
      yield bytes(2, 5);
    }
    const stream = concatStreams(iterableToStream([bytes(5)]), late());
    const reader = stream.getReader();
    await reader.read();
    expect(opened).toBe(false);
    reader.releaseLock();
    expect(await collectBytes(stream)).toEqual(bytes(2, 5));
  });
  it("cuts a byte range out of a stream", async () => {
    const src = iterableToStream([bytes(300), bytes(300, 300), bytes(300, 600)]);
    const out = await collectBytes(src.pipeThrough(new ByteRangeStream(250, 650)));
    expect(out).toEqual(bytes(400, 250));
    expect(() => new ByteRangeStream(10, 5)).toThrow(RangeError);
  });
  it("counts bytes passing through", async () => {
    const counter = new ByteCountStream();
    await zeroStream(5_000_000).pipeThrough(counter).pipeTo(new WritableStream());
    expect(counter.bytes).toBe(5_000_000);
    expect(await measureLength(zeroStream(12345, 100))).toBe(12345);
  });
});

describe("zeros", () => {
  it("shares one buffer and detects zero blocks", () => {
    expect(zeros(10).buffer).toBe(zeros(20).buffer);
    expect(isZero(zeros(4096))).toBe(true);
    const b = new Uint8Array(4096);
    b[4095] = 1;
    expect(isZero(b)).toBe(false);
    expect(isZero(b.subarray(1, 100))).toBe(true);
    expect(() => zeros(2 ** 21)).toThrow(RangeError);
  });

  it("checks a range: the first sixteen bytes, then the rest", () => {
    const b = new Uint8Array(8192);
    expect(isZeroRange(b, 0, 8192)).toBe(true);
    expect(isZeroRange(b, 4096, 4100)).toBe(true);
    for (const at of [4096, 4096 + 15, 4096 + 16, 8191]) {
      b.fill(0);
      b[at] = 7;
      expect(isZeroRange(b, 4096, 8192)).toBe(false);
      expect(isZeroRange(b, 0, 4096)).toBe(true);
      expect(isZeroRange(b, at + 1, 8192)).toBe(true);
    }
  });
});
