import { describe, expect, it } from "vitest";
import { collectBytes as bytesOf } from "../collect_bytes.ts";
import { zeroChunks } from "../zeros.ts";
import { BLOCK, encoder } from "./_tar_format.ts";
import { readTar } from "./read_tar.ts";
import type { TarEntry } from "./tar_header.ts";
import { writeTar } from "./write_tar.ts";

const text = (s: string) => encoder.encode(s);
const latin1 = new TextDecoder("latin1");

async function* stream(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield text(p);
}

describe("writeTar", () => {
  it("writes a plain ustar header when everything fits, padded to a 10240-byte record", async () => {
    const tar = await bytesOf(
      writeTar([{ path: "a.txt", type: "file", body: text("hi\n"), mtime: 1_700_000_000 }]),
    );
    expect(tar.length).toBe(10240);
    const h = latin1.decode(tar.subarray(0, BLOCK));
    expect(h.slice(0, 6)).toBe("a.txt\0");
    expect(h.slice(100, 108)).toBe("0000644\0");
    expect(h.slice(124, 136)).toBe("00000000003\0");
    expect(h.slice(136, 148)).toBe(`${(1_700_000_000).toString(8)}\0`);
    expect(h[156]).toBe("0");
    expect(h.slice(257, 265)).toBe("ustar\x0000");
    expect(latin1.decode(tar.subarray(BLOCK, BLOCK + 4))).toBe("hi\n\0");
    expect(tar.subarray(1024).every((b) => b === 0)).toBe(true);
  });

  it("pads only to 512 with recordSize 512, and rejects bad record sizes", async () => {
    const tar = await bytesOf(writeTar([{ path: "d", type: "directory" }], { recordSize: 512 }));
    expect(tar.length).toBe(3 * BLOCK);
    expect(latin1.decode(tar.subarray(0, 2))).toBe("d/");
    await expect(bytesOf(writeTar([], { recordSize: 1000 }))).rejects.toThrow(RangeError);
    expect(await bytesOf(writeTar([]))).toHaveLength(10240);
  });

  it("adds a pax header only for what ustar cannot hold", async () => {
    const cases: Array<[string, Parameters<typeof writeTar>[0], string[]]> = [
      ["split path", [{ path: `${"p".repeat(150)}/${"n".repeat(99)}`, type: "file" }], []],
      ["long directory", [{ path: "d".repeat(120), type: "directory" }], ["path"]],
      ["long path", [{ path: "x".repeat(101), type: "file" }], ["path"]],
      ["non-ASCII path", [{ path: "é", type: "file" }], ["path"]],
      ["long link", [{ path: "l", type: "symlink", linkname: "t".repeat(101) }], ["linkpath"]],
      ["big uid", [{ path: "u", type: "file", uid: 2_097_152, gid: 2_097_151 }], ["uid"]],
      ["fraction", [{ path: "t", type: "file", mtime: 1.5 }], ["mtime"]],
      ["negative", [{ path: "t", type: "file", mtime: -1 }], ["mtime"]],
      ["atime", [{ path: "t", type: "file", atime: 1, ctime: 2 }], ["atime", "ctime"]],
      ["long uname", [{ path: "t", type: "file", uname: "u".repeat(32) }], ["uname"]],
      [
        "xattr",
        [{ path: "t", type: "file", xattrs: { "user.a": text("b") } }],
        ["SCHILY.xattr.user.a"],
      ],
    ];
    for (const [name, entries, keys] of cases) {
      const tar = await bytesOf(writeTar(entries, { recordSize: 512 }));
      if (keys.length === 0) {
        expect(tar.length, name).toBe(3 * BLOCK);
        continue;
      }
      expect(tar[156], name).toBe(0x78);
      const records = latin1.decode(tar.subarray(BLOCK, 2 * BLOCK));
      const found = [...records.matchAll(/\d+ ([^=]+)=/g)].map((m) => m[1]);
      expect(found, name).toEqual(keys);
      for await (const e of readTar([tar]))
        expect(e.path).toBe((entries as Array<{ path: string }>)[0]?.path);
    }
  });

  it("stores a 9 GiB size in pax and base-256, streaming the body through", async () => {
    const size = 9 * 2 ** 30;
    let n = 0;
    let header: Uint8Array | undefined;
    for await (const chunk of writeTar([
      { path: "big", type: "file", size, body: zeroChunks(size) },
    ])) {
      header ??= chunk;
      n += chunk.length;
    }
    expect(n).toBe(Math.ceil((size + 5 * BLOCK) / 10240) * 10240);
    expect(latin1.decode((header as Uint8Array).subarray(BLOCK, 2 * BLOCK))).toMatch(
      /^\d+ size=9663676416\n/,
    );
    expect((header as Uint8Array)[2 * BLOCK + 124]).toBe(0x80);
  });

  it("checks that a body matches its size", async () => {
    const write = (entry: Parameters<typeof writeTar>[0]) => bytesOf(writeTar(entry));
    await expect(write([{ path: "a", type: "file", size: 3, body: text("ab") }])).rejects.toThrow(
      "Cannot write tar member 'a': its body has 2 bytes, but its size is 3",
    );
    await expect(write([{ path: "a", type: "file", size: 3, body: stream("ab") }])).rejects.toThrow(
      /only 2 bytes/,
    );
    await expect(
      write([{ path: "a", type: "file", size: 3, body: stream("ab", "cd") }]),
    ).rejects.toThrow(/more than 3 bytes/);
    await expect(write([{ path: "a", type: "file", body: stream("ab") }])).rejects.toThrow(
      /needs a size/,
    );
    await expect(write([{ path: "a", type: "file", size: 3 }])).rejects.toThrow(/no body/);
    await expect(write([{ path: "d", type: "directory", body: stream("x") }])).rejects.toThrow(
      "Cannot write tar member 'd': a directory cannot have a body",
    );
    // A directory's size from stat and a hard link's target size are ignored.
    expect(await write([{ path: "d", type: "directory", size: 4096 }])).toHaveLength(10240);
    expect(await write([{ path: "h", type: "hardlink", linkname: "f", size: 3 }])).toHaveLength(
      10240,
    );
    expect(
      await bytesOf(writeTar([{ path: "a", type: "file", size: 4, body: stream("ab", "", "cd") }])),
    ).toHaveLength(10240);
  });

  it("rejects what a tar header cannot say", async () => {
    const write = (entry: Parameters<typeof writeTar>[0]) => bytesOf(writeTar(entry));
    await expect(write([{ path: "", type: "file" }])).rejects.toThrow(TypeError);
    await expect(write([{ path: "a\0b", type: "file" }])).rejects.toThrow(/NUL/);
    await expect(write([{ path: "s", type: "symlink" }])).rejects.toThrow(/needs a linkname/);
    await expect(write([{ path: "c", type: "char", devmajor: 2 ** 21 }])).rejects.toThrow(
      /devmajor/,
    );
    await expect(write([{ path: "u", type: "file", uid: -1 }])).rejects.toThrow(RangeError);
    await expect(write([{ path: "x", type: "file", xattrs: { "a=b": text("") } }])).rejects.toThrow(
      TypeError,
    );
    await expect(write([{ path: "x", type: "socket" as "file" }])).rejects.toThrow(/unknown type/);
    await expect(write([{ path: "x", type: "constructor" as "file" }])).rejects.toThrow(
      /unknown type/,
    );
  });

  it("is deterministic", async () => {
    const entries = () => [
      { path: "a", type: "file" as const, body: text("x") },
      { path: "b", type: "directory" as const },
    ];
    expect(await bytesOf(writeTar(entries()))).toEqual(await bytesOf(writeTar(entries())));
  });

  it("writes GNU sparse members (pax 1.0) that readTar expands again", async () => {
    const size = 3 * 2 ** 20 + 100;
    async function* file(): AsyncGenerator<Uint8Array> {
      yield* zeroChunks(2 ** 20);
      yield new Uint8Array(5000).fill(0x41);
      yield* zeroChunks(2 ** 20 - 5000);
      yield* zeroChunks(2 ** 20 + 90);
      yield new Uint8Array(10).fill(0x42);
    }
    const sparse = [
      { offset: 2 ** 20, length: 5000 },
      { offset: size - 10, length: 10 },
    ];
    const tar = await bytesOf(
      writeTar([{ path: "d/disk.img", type: "file", size, sparse, body: file() }]),
    );
    expect(tar.length).toBeLessThan(20_000);
    const records = latin1.decode(tar.subarray(BLOCK, 2 * BLOCK));
    expect(records).toContain("GNU.sparse.name=d/disk.img\n");
    expect(latin1.decode(tar.subarray(2 * BLOCK, 2 * BLOCK + 100))).toMatch(
      /^d\/GNUSparseFile.0\/disk.img\0/,
    );
    const got: Array<[TarEntry, Uint8Array]> = [];
    for await (const e of readTar([tar])) got.push([e, await bytesOf(e.body)]);
    expect(got).toHaveLength(1);
    const [entry, back] = got[0] as [TarEntry, Uint8Array];
    expect(entry).toMatchObject({ path: "d/disk.img", size, sparse });
    expect(Buffer.from(back).equals(await bytesOf(file()))).toBe(true);
  });

  it("round trips a sparse member read by readTar, holes included", async () => {
    const first = await bytesOf(
      writeTar([
        {
          path: "s",
          type: "file",
          size: 10_000,
          sparse: [{ offset: 4096, length: 3 }],
          body: zeroChunks(10_000),
        },
      ]),
    );
    const copy = await bytesOf(writeTar(readTar([first])));
    expect(copy).toEqual(first);
  });

  it("refuses data in a hole and maps that do not fit", async () => {
    const write = (entry: Parameters<typeof writeTar>[0]) => bytesOf(writeTar(entry));
    await expect(
      write([{ path: "s", type: "file", sparse: [{ offset: 0, length: 1 }], body: text("ab") }]),
    ).rejects.toThrow(
      "Cannot write sparse tar member 's': byte 1 is not zero but lies in a hole of its map",
    );
    await expect(
      write([{ path: "s", type: "file", sparse: [{ offset: 1, length: 5 }], body: text("ab") }]),
    ).rejects.toThrow(/ends past its size 2/);
    await expect(
      write([
        {
          path: "s",
          type: "file",
          size: 9,
          sparse: [
            { offset: 4, length: 1 },
            { offset: 2, length: 1 },
          ],
          body: zeroChunks(9),
        },
      ]),
    ).rejects.toThrow(/not in order/);
  });
});
