import { collectBytes, isZero, zeroStream, zeros } from "@bigfile/blockdev";
import { describe, expect, it } from "vitest";
import { encodeTable } from "./encode_table.ts";
import { planLayout } from "./plan_layout.ts";
import { readPartitions } from "./read_partitions.ts";
import { SectorPatchStream } from "./sector_patch_stream.ts";
import { TableWriterStream } from "./table_stream.ts";
import { planWrap, wrapPartition, wrapPartitionStream } from "./wrap_partition.ts";

const table = planLayout(
  [
    { size: { sectors: 100 } },
    { kind: "extended", size: { sectors: 3000 } },
    { kind: "logical", size: { sectors: 100 } },
    { kind: "logical", size: { sectors: 200 } },
  ],
  { diskSize: 4096 * 512, align: "sector", labelId: 0x01020304 },
);

/** A stream of `bytes` cut into chunks of the given sizes (repeating). */
function chunked(bytes: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length] as number;
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return ReadableStream.from(chunks);
}

describe("TableWriterStream", () => {
  it("writes sector 0 and the EBRs into a passing image, whatever the chunking", async () => {
    const image = new Uint8Array(4096 * 512);
    image.fill(0xee, 0, 440); // boot code, kept
    image.fill(0x77, 3000 * 512, 3001 * 512); // data, untouched
    const expected = image.slice();
    const sectors = encodeTable(table);
    for (const s of sectors)
      expected.set(
        s.lba === 0 ? s.bytes.subarray(440) : s.bytes,
        s.lba * 512 + (s.lba === 0 ? 440 : 0),
      );
    for (const sizes of [[37], [511, 2], [4096 * 512], [1000, 7, 65536], [513]]) {
      const out = await collectBytes(
        chunked(image.slice(), sizes).pipeThrough(new TableWriterStream(table)),
      );
      expect(Buffer.from(out).equals(Buffer.from(expected)), `chunks ${sizes}`).toBe(true);
    }
    const read = await readPartitions(expected);
    expect(read.partitions.map((p) => [p.number, p.start, p.size])).toEqual(
      table.partitions.map((p) => [p.number, p.start, p.size]),
    );
  });

  it("replaces the boot code when asked", async () => {
    const out = await collectBytes(
      chunked(new Uint8Array(4096 * 512).fill(1), [4096]).pipeThrough(
        new TableWriterStream(table, { keepBootCode: false }),
      ),
    );
    expect(out.subarray(0, 440).every((b) => b === 0)).toBe(true);
  });

  it("passes untouched chunks through as they are and never writes into its input", async () => {
    const input = zeroStream(4096 * 512, 65536);
    const seen: Uint8Array[] = [];
    const reader = input.pipeThrough(new TableWriterStream(table)).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen.push(value);
    }
    expect(isZero(zeros())).toBe(true);
    // Chunks without table sectors are the shared zero buffer itself.
    expect(seen.filter((c) => c.buffer === zeros().buffer).length).toBeGreaterThan(20);
  });

  it("errors when the image ends before the table's sectors", async () => {
    const s = ReadableStream.from([new Uint8Array(1000)]).pipeThrough(new TableWriterStream(table));
    await expect(collectBytes(s)).rejects.toThrow(RangeError);
    await expect(
      collectBytes(
        ReadableStream.from([new Uint8Array(100)]).pipeThrough(
          new SectorPatchStream([{ offset: 510, bytes: new Uint8Array(2) }]),
        ),
      ),
    ).rejects.toThrow(/ended at byte 100/);
  });
});

describe("wrapPartition", () => {
  it("lays out table, gap, partition, padding", async () => {
    const plan = planWrap({ partitionSize: 1000, align: "mib", labelId: 9 });
    expect(plan.diskSize).toBe(4096 * 512);
    const out = await collectBytes(
      wrapPartitionStream(
        ReadableStream.from([new Uint8Array(600).fill(3), new Uint8Array(400).fill(4)]),
        plan,
      ),
    );
    expect(out.length).toBe(4096 * 512);
    expect(out.subarray(2048 * 512, 2048 * 512 + 600).every((b) => b === 3)).toBe(true);
    expect(out.subarray(2048 * 512 + 600, 2048 * 512 + 1000).every((b) => b === 4)).toBe(true);
    expect(isZero(out.subarray(2048 * 512 + 1000))).toBe(true);
    expect((await readPartitions(out)).partitions[0]).toMatchObject({ start: 2048, size: 2 });
  });

  it("refuses an image longer than planned", async () => {
    const plan = planWrap({ partitionSize: 512, align: "sector" });
    const it = wrapPartition(ReadableStream.from([new Uint8Array(600)]), plan);
    await expect(
      (async () => {
        for await (const _ of it) {
        }
      })(),
    ).rejects.toThrow(/longer than the 512-byte partition/);
  });
});
