import { zeros } from "@bigfile/blockdev";
import { describe, expect, it } from "vitest";
import { rawBlockRuns, rawBlocks } from "./_bytes.ts";
import { rng } from "./_test_tools.ts";

/** Chunks of random sizes: data, zeros that are not shared, and views of the shared zero buffer. */
function chunksFor(seed: number, total: number): Uint8Array[] {
  const random = rng(seed);
  // A 5 MiB hole first, so that every block size has whole blocks of it.
  const out: Uint8Array[] = Array.from({ length: 5 }, () => zeros(1 << 20));
  for (let at = 5 << 20; at < total; ) {
    const length = Math.min(total - at, 1 + Math.floor(random() * (1 << 20)));
    const kind = random();
    if (kind < 0.5) out.push(zeros(length));
    else if (kind < 0.6) out.push(new Uint8Array(length));
    else out.push(new Uint8Array(length).map(() => (random() * 256) | 0));
    at += length;
  }
  return out;
}

async function* from(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

describe("rawBlockRuns: holes as counts, the same bytes as rawBlocks", () => {
  for (const blockSize of [512, 4096, 65536, 1 << 20, 2 << 20]) {
    for (const seed of [1, 2, 3]) {
      it(`blocks of ${blockSize}, seed ${seed}`, async () => {
        const total = 9 * (1 << 20) + seed * 777;
        const chunks = chunksFor(seed, total);
        const expected: Uint8Array[] = [];
        for await (const block of rawBlocks(from(chunks), blockSize, total)) {
          expected.push(block.slice());
        }
        let index = 0;
        let counted = 0;
        for await (const item of rawBlockRuns(from(chunks), blockSize, total)) {
          if (typeof item === "number") {
            expect(item).toBeGreaterThan(0);
            counted += item;
            for (let n = 0; n < item; n++) {
              const want = expected[index++] as Uint8Array;
              expect(
                want.every((b) => b === 0),
                `block ${index - 1} is zeros`,
              ).toBe(true);
            }
            continue;
          }
          const want = expected[index++] as Uint8Array;
          expect(Buffer.from(item).equals(Buffer.from(want)), `block ${index - 1}`).toBe(true);
        }
        expect(index).toBe(expected.length);
        expect(index).toBe(Math.ceil(total / blockSize));
        // The source is half shared zeros: most of them are counted, not yielded.
        expect(counted).toBeGreaterThan(0);
      });
    }
  }

  it("a source of the wrong length is an error", async () => {
    const run = async (chunks: Uint8Array[], total: number) => {
      for await (const _ of rawBlockRuns(from(chunks), 4096, total)) {
      }
    };
    await expect(run([zeros(1000)], 2000)).rejects.toThrow(/ended at 1000 bytes/);
    await expect(run([zeros(3000)], 2000)).rejects.toThrow(/more than the 2000 bytes/);
  });
});
