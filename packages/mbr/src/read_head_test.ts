import { describe, expect, it } from "vitest";
import { readHead } from "./read_head.ts";

const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff);

/** The bytes in chunks of the given sizes, all through one reused buffer (as readFd's reuseBuffer). */
async function* reusedChunks(data: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  const shared = new Uint8Array(Math.max(...sizes));
  let at = 0;
  let i = 0;
  while (at < data.length) {
    const n = Math.min(sizes[i++ % sizes.length] as number, data.length - at);
    shared.set(data.subarray(at, at + n));
    yield shared.subarray(0, n);
    shared.fill(0xee); // what the next read would do to a chunk kept too long
    at += n;
  }
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: number[] = [];
  for await (const chunk of stream) parts.push(...chunk);
  return Uint8Array.from(parts);
}

describe("readHead", () => {
  it("holds the head and gives every byte again, whatever the chunking, with a reused buffer", async () => {
    for (const sizes of [[1], [3, 1000], [4096], [65536], [999, 1, 2]]) {
      for (const n of [1, 512, 4096, 9999, 10_000, 20_000]) {
        const { head, stream } = await readHead(reusedChunks(bytes, sizes), n);
        expect(head).toEqual(bytes.subarray(0, Math.min(n, bytes.length)));
        const copy = head.slice();
        expect(await collect(stream), `${sizes} ${n}`).toEqual(bytes);
        expect(head).toEqual(copy); // the head stays valid
      }
    }
  });

  it("gives an empty head for an empty stream", async () => {
    const { head, stream } = await readHead(reusedChunks(new Uint8Array(0), [10]), 100);
    expect(head.length).toBe(0);
    expect((await collect(stream)).length).toBe(0);
  });

  it("ends the source when the reader stops early, or on cancel", async () => {
    let closed = 0;
    async function* source() {
      try {
        for (let i = 0; i < 100; i++) yield new Uint8Array(100).fill(i);
      } finally {
        closed++;
      }
    }
    const a = await readHead(source(), 150);
    for await (const chunk of a.stream) if (chunk[0] === 5) break;
    expect(closed).toBe(1);
    const b = await readHead(source(), 150);
    await b.cancel();
    expect(closed).toBe(2);
    expect(() => b.stream[Symbol.asyncIterator]()).toThrow(TypeError);
  });

  it("refuses a byte count that is not positive", async () => {
    for (const n of [0, -1, 1.5, Number.NaN])
      await expect(readHead(reusedChunks(bytes, [10]), n)).rejects.toThrow(RangeError);
  });
});
