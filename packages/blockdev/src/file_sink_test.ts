import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FirstTouchPlacement } from "./_test_placement.ts";
import {
  canWriteSparse,
  type SparseTarget,
  writeFileAtomically,
  writeNonZeroBlocks,
  writeToFd,
  writeToFile,
} from "./file_sink.ts";
import { readFile } from "./file_source.ts";
import { zeroChunks } from "./zeros.ts";

const dir = mkdtempSync(join(tmpdir(), "blockdev-sink-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GiB = 2 ** 30;
const islands = [0, 32256, GiB + 4096 * 3, 4 * GiB - 512];

/** A 4 GiB image: zeros with a 512-byte island of data at a few offsets. */
function* image(): Generator<Uint8Array> {
  let at = 0;
  for (const island of islands) {
    yield* zeroChunks(island - at);
    yield Uint8Array.from({ length: 512 }, (_, i) => (island / 512 + i) % 251 || 1);
    at = island + 512;
  }
  yield* zeroChunks(4 * GiB - at);
}

async function sha256(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of source) hash.update(chunk);
  return hash.digest("hex");
}

describe("writeToFile", () => {
  it("writes a 4 GiB image as holes: under 1 MiB on disk, same bytes back", async () => {
    const path = join(dir, "big.img");
    const result = await writeToFile(image(), path);
    expect(result).toEqual({ bytes: 4 * GiB, dataBytes: 4 * 512 });
    const st = statSync(path);
    expect(st.size).toBe(4 * GiB);
    expect(st.blocks * 512).toBeLessThan(2 ** 20);
    expect(await sha256(readFile(path))).toBe(await sha256(image()));
  }, 120_000);

  it("writes every byte without --sparse", async () => {
    const path = join(dir, "dense.img");
    await writeToFile(zeroChunks(256 * 1024), path, { sparse: false });
    expect(statSync(path).blocks * 512).toBeGreaterThanOrEqual(256 * 1024);
  });

  it("appends at an offset of a spool file, holes included", async () => {
    const { closeSync, openSync } = await import("node:fs");
    const { writeToFd } = await import("./file_sink.ts");
    const path = join(dir, "spool.bin");
    const fd = openSync(path, "wx+");
    try {
      const head = new Uint8Array(100).fill(1);
      expect(await writeToFd([head], fd, { positional: true })).toEqual({
        bytes: 100,
        dataBytes: 100,
      });
      const body = [new Uint8Array(8192), new Uint8Array(10).fill(2)];
      const r = await writeToFd(body, fd, { positional: true, offset: 4096 });
      expect(r).toEqual({ bytes: 8202, dataBytes: 10 });
    } finally {
      closeSync(fd);
    }
    const bytes = new Uint8Array(readFileSync(path));
    expect(bytes.length).toBe(4096 + 8202);
    expect(bytes.subarray(0, 100).every((b) => b === 1)).toBe(true);
    expect(bytes.subarray(100, 4096 + 8192).every((b) => b === 0)).toBe(true);
    expect(bytes.subarray(4096 + 8192).every((b) => b === 2)).toBe(true);
  });

  it("removes a new file when the source fails", async () => {
    const path = join(dir, "new-fails.img");
    async function* failing() {
      yield new Uint8Array(4096).fill(7);
      throw new Error("source broke");
    }
    await expect(writeToFile(failing(), path)).rejects.toThrow("source broke");
    expect(existsSync(path)).toBe(false);
  });

  it("leaves an existing file untouched and no temporary behind when the source fails", async () => {
    const path = join(dir, "keep.img");
    writeFileSync(path, "precious");
    async function* failing() {
      yield new Uint8Array(4096).fill(7);
      throw new Error("source broke");
    }
    await expect(writeToFile(failing(), path)).rejects.toThrow("source broke");
    expect(readFileSync(path, "utf8")).toBe("precious");
    expect(existsSync(path) && readFileSync(path).length).toBe(8);
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});

describe("writeFileAtomically", () => {
  it("replaces an existing file only when the write succeeds, and leaves no temporary", async () => {
    const path = join(dir, "atomic.bin");
    writeFileSync(path, "old");
    await expect(
      writeFileAtomically(path, async (fd) => {
        writeFileSync(fd, "half");
        throw new Error("the writer failed");
      }),
    ).rejects.toThrow("the writer failed");
    expect(readFileSync(path, "utf8")).toBe("old");
    const result = await writeFileAtomically(path, async (fd) => {
      writeFileSync(fd, "new");
      return 7;
    });
    expect(result).toBe(7);
    expect(readFileSync(path, "utf8")).toBe("new");
    const fresh = join(dir, "atomic-new.bin");
    await expect(
      writeFileAtomically(fresh, async () => {
        throw new Error("no");
      }),
    ).rejects.toThrow("no");
    expect(existsSync(fresh)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });
});

describe("writeNonZeroBlocks", () => {
  it("writes data blocks only, counted from the buffer's start, a short last one too", () => {
    const path = join(dir, "non-zero");
    const fd = openSync(path, "w+");
    try {
      writeFileSync(fd, new Uint8Array(8192).fill(7));
      // Blocks of 1024 from byte 1000: data, zeros (keeps the 7s), data, a short data block.
      const bytes = new Uint8Array(3500);
      bytes.fill(1, 0, 1024);
      bytes.fill(2, 2048, 3072);
      bytes[3400] = 3;
      expect(writeNonZeroBlocks(fd, bytes, 1000, 1024)).toBe(1024 + 1024 + 428);
    } finally {
      closeSync(fd);
    }
    const back = readFileSync(path);
    expect(back.subarray(1000, 2024).every((b) => b === 1)).toBe(true);
    expect(back.subarray(2024, 3048).every((b) => b === 7)).toBe(true);
    expect(back.subarray(3048, 4072).every((b) => b === 2)).toBe(true);
    expect(back[4400]).toBe(3);
    expect(back[4401]).toBe(0);
    expect(back[999]).toBe(7);
  });
});

describe("a placement: the image laid out in the file by someone else", () => {
  it("writeNonZeroBlocks places only data runs, split where the placement splits them", () => {
    const path = join(dir, "placed-blocks");
    const placement = new FirstTouchPlacement(4096, 512);
    const bytes = new Uint8Array(5 * 1024);
    bytes.fill(1, 0, 1024); // 3000..4024: unit 0
    bytes.fill(2, 3072, 5120); // 6072..8120: units 1 (first placed after unit 0)
    const fd = openSync(path, "w+");
    try {
      // Unit 1 placed first: the image's order is not the file's.
      expect(placement.place(6000, 1)).toEqual([512 + 6000 - 4096, 1]);
      expect(writeNonZeroBlocks(fd, bytes, 3000, 1024, placement)).toBe(1024 + 2048);
    } finally {
      closeSync(fd);
    }
    // The zero blocks between were never placed: only the two data runs.
    expect(placement.calls).toEqual([
      [6000, 1],
      [3000, 1024],
      [6072, 2048],
    ]);
    const file = readFileSync(path);
    const image = placement.image(file, 12_288);
    const expected = new Uint8Array(12_288);
    expected.set(bytes, 3000);
    expect(Buffer.compare(image, expected)).toBe(0);
    // Slot 0 is unit 1, slot 1 unit 0: the first byte written went to slot 1.
    expect(file[512 + 4096 + 3000]).toBe(1);
  });

  it("writeToFd writes through it, hands it to onSparseTarget and leaves the size alone", async () => {
    const path = join(dir, "placed-stream");
    const placement = new FirstTouchPlacement(65536, 4096);
    const fd = openSync(path, "w+");
    let seen: SparseTarget | undefined;
    let result: { bytes: number; dataBytes: number };
    try {
      result = await writeToFd(image(), fd, {
        positional: true,
        offset: 100,
        placement,
        onSparseTarget: (target) => {
          seen = target;
        },
      });
    } finally {
      closeSync(fd);
    }
    expect(seen).toEqual({ fd, offset: 100, holeBlockSize: 4096, placement });
    expect(result.bytes).toBe(4 * GiB);
    expect(result.dataBytes).toBe(islands.length * 512);
    // Units 0 (two islands), 16384, and 65535 and 65536 (the last island
    // straddles them) were placed: the file ends with the last one's 100
    // bytes, 3 units after the 4096-byte base, not at 4 GiB.
    expect([...placement.slots.keys()]).toEqual([0, 16384, 65535, 65536]);
    expect(statSync(path).size).toBe(4096 + 3 * 65536 + 100);
    const file = readFileSync(path);
    for (const island of islands) {
      const at = island + 100;
      const want = Uint8Array.from({ length: 512 }, (_, i) => (island / 512 + i) % 251 || 1);
      const [position] = placement.place(at, 512);
      expect(Buffer.compare(file.subarray(position, (position as number) + 512), want)).toBe(0);
    }
  });
});

describe("canWriteSparse", () => {
  it("an empty regular file, unless opened to append (>>), where Linux appends positional writes", () => {
    const path = join(dir, "sparse-check");
    for (const [flags, expected] of [
      ["w", true],
      ["a", process.platform !== "linux"], // only Linux says (/proc/self/fdinfo)
      ["a+", process.platform !== "linux"],
    ] as const) {
      rmSync(path, { force: true });
      const fd = openSync(path, flags);
      try {
        expect(canWriteSparse(fd), flags).toBe(expected);
      } finally {
        closeSync(fd);
      }
    }
    writeFileSync(path, "x");
    const full = openSync(path, "r+");
    try {
      expect(canWriteSparse(full)).toBe(false); // not empty
    } finally {
      closeSync(full);
    }
  });
});
