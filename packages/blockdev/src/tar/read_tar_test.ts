import { describe, expect, it } from "vitest";
import { collectBytes as bytesOf } from "../collect_bytes.ts";
import {
  BLOCK,
  checksums,
  encoder,
  parseNumber,
  putBase256,
  putBytes,
  putChecksum,
  putOctal,
} from "./_tar_format.ts";
import { chunked } from "./_test_tools.ts";
import { readTar } from "./read_tar.ts";
import type { TarEntry, TarWriteEntry } from "./tar_header.ts";
import { TarSyntaxError, TarUnsafePathError } from "./tar_syntax_error.ts";
import { writeTar } from "./write_tar.ts";

const text = (s: string) => encoder.encode(s);

interface Raw {
  name: string;
  flag?: string;
  size?: number;
  mode?: number;
  magic?: "ustar" | "gnu" | "v7";
  linkname?: string;
  mtime?: number;
  signed?: boolean;
}

/** One hand-made header block. */
function header(raw: Raw): Uint8Array {
  const b = new Uint8Array(BLOCK);
  putBytes(b, "name", text(raw.name));
  putOctal(b, "mode", raw.mode ?? 0o644);
  putOctal(b, "uid", 0);
  putOctal(b, "gid", 0);
  putOctal(b, "size", raw.size ?? 0);
  putOctal(b, "mtime", raw.mtime ?? 0);
  b[156] = (raw.flag ?? "0").charCodeAt(0);
  if (raw.linkname) putBytes(b, "linkname", text(raw.linkname));
  if ((raw.magic ?? "ustar") === "ustar") b.set(text("ustar\x0000"), 257);
  if (raw.magic === "gnu") b.set(text("ustar  \x00"), 257);
  putChecksum(b);
  if (raw.signed) {
    const [, signed] = checksums(b);
    b.set(text(`${(signed >>> 0).toString(8).padStart(6, "0").slice(-6)}\x00 `), 148);
  }
  return b;
}

function body(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / BLOCK) * BLOCK);
  out.set(bytes);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function pax(records: Record<string, string>, flag = "x"): Uint8Array {
  let data = "";
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    const restLen = text(rest).length;
    let len = restLen + String(restLen).length;
    if (String(len).length + restLen !== len) len = restLen + String(len).length;
    data += `${len}${rest}`;
  }
  const bytes = text(data);
  return concat(header({ name: "PaxHeader", flag, size: bytes.length }), body(bytes));
}

const END = new Uint8Array(1024);

async function all(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, options = {}) {
  const out: Array<Omit<TarEntry, "body"> & { data: string }> = [];
  for await (const e of readTar(source, options)) {
    const { body: b, ...rest } = e;
    out.push({ ...rest, data: new TextDecoder().decode(await bytesOf(b)) });
  }
  return out;
}

async function error(source: Iterable<Uint8Array>, options = {}): Promise<Error> {
  try {
    await all(source, options);
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected readTar to throw");
}

describe("readTar", () => {
  const entries: TarWriteEntry[] = [
    { path: ".", type: "directory" },
    {
      path: "a/b.txt",
      type: "file",
      body: text("hello"),
      mode: 0o600,
      uid: 5,
      gid: 6,
      uname: "u",
      gname: "g",
      mtime: 99,
    },
    { path: "a/empty", type: "file" },
    { path: "a/512", type: "file", body: new Uint8Array(512).fill(7) },
    { path: "a/link", type: "hardlink", linkname: "a/b.txt" },
    { path: "a/sym", type: "symlink", linkname: "/abs/target" },
    { path: "dev/tty", type: "char", devmajor: 5, devminor: 0 },
    { path: "dev/fifo", type: "fifo" },
    {
      path: `${"x".repeat(300)}`,
      type: "file",
      body: text("long"),
      mtime: 1.5,
      atime: 2.25,
      ctime: -3,
    },
  ];

  it("round trips writeTar output whatever the chunk sizes", async () => {
    const tar = await bytesOf(writeTar(entries));
    const expected = await all([tar]);
    expect(expected.map((e) => e.path)).toEqual([
      ".",
      "a/b.txt",
      "a/empty",
      "a/512",
      "a/link",
      "a/sym",
      "dev/tty",
      "dev/fifo",
      "x".repeat(300),
    ]);
    expect(expected[1]).toMatchObject({
      type: "file",
      mode: 0o600,
      uid: 5,
      gid: 6,
      uname: "u",
      gname: "g",
      mtime: 99,
      size: 5,
      data: "hello",
    });
    expect(expected[4]).toMatchObject({ type: "hardlink", linkname: "a/b.txt", size: 0 });
    expect(expected[5]).toMatchObject({ type: "symlink", linkname: "/abs/target", mode: 0o777 });
    expect(expected[6]).toMatchObject({ type: "char", devmajor: 5, devminor: 0 });
    expect(expected[8]).toMatchObject({ mtime: 1.5, atime: 2.25, ctime: -3, data: "long" });
    for (const size of [1, 7, 511, 512, 513, 4096]) {
      expect(await all(chunked(tar, size)), `chunks of ${size}`).toEqual(expected);
    }
  });

  it("skips bodies that are not read, or read in part", async () => {
    const tar = await bytesOf(writeTar(entries));
    const paths: string[] = [];
    for await (const e of readTar([tar])) {
      paths.push(e.path);
      if (e.path === "a/512") for await (const _ of e.body) break;
    }
    expect(paths).toHaveLength(entries.length);
  });

  it("refuses a body read twice or after the reader moved on", async () => {
    const tar = await bytesOf(writeTar(entries));
    const it = readTar(chunked(tar, 100));
    await it.next();
    const first = (await it.next()).value as TarEntry;
    for await (const _ of first.body);
    expect(() => first.body[Symbol.asyncIterator]()).toThrow(TypeError);
    const third = (await it.next()).value as TarEntry;
    const fourth = (await it.next()).value as TarEntry;
    expect(third.path).toBe("a/empty");
    await expect(bytesOf(fourth.body)).resolves.toHaveLength(512);
    const fifth = (await it.next()).value as TarEntry;
    expect(fifth.path).toBe("a/link");
  });

  it("reports a body streamed after the next member was requested", async () => {
    const tar = await bytesOf(
      writeTar([
        { path: "a", type: "file", body: new Uint8Array(5000) },
        { path: "b", type: "file" },
      ]),
    );
    const it = readTar(chunked(tar, 1000));
    const a = (await it.next()).value as TarEntry;
    await it.next();
    await expect(bytesOf(a.body)).rejects.toThrow(/moved past it/);
  });

  it("accepts signed checksums (old tars with high bytes in names)", async () => {
    const name = "caf\xe9"; // Latin-1, not UTF-8
    const b = header({ name: "x", signed: true });
    b.set([0x63, 0x61, 0x66, 0xe9, 0], 0);
    const [, signed] = checksums(b);
    b.set(text(`${(signed >>> 0).toString(8).slice(-6).padStart(6, "0")}\x00 `), 148);
    expect(parseNumber(b.subarray(148, 156))).not.toBe(checksums(b)[0]);
    const [e] = await all([b, END]);
    expect(e?.path).toBe(name);
  });

  it("throws TarSyntaxError with the offset for a bad checksum", async () => {
    const tar = await bytesOf(writeTar(entries, { recordSize: 512 }));
    const bad = tar.slice();
    bad[0] = (bad[0] as number) ^ 1;
    const e0 = await error([bad]);
    expect(e0).toBeInstanceOf(TarSyntaxError);
    expect((e0 as TarSyntaxError).offset).toBe(0);
    expect(e0.message).toMatch(
      /^Cannot read tar header at offset 0: checksum .* not a tar archive/,
    );
    const bad2 = tar.slice();
    bad2[612] = (bad2[612] as number) ^ 1; // mode of the second member
    expect(((await error([bad2])) as TarSyntaxError).offset).toBe(512);
    expect(
      await error([text("just some text, certainly not a tar archive\n".repeat(20))]),
    ).toBeInstanceOf(TarSyntaxError);
  });

  it("reads v7 headers: no magic, directories by trailing slash, no owner names", async () => {
    const tar = concat(
      header({ name: "dir/", flag: "\0", magic: "v7", mode: 0o755 }),
      header({ name: "dir/f", flag: "\0", magic: "v7", size: 3 }),
      body(text("abc")),
      header({ name: "dir/l", flag: "1", magic: "v7", linkname: "dir/f", size: 3 }),
      END,
    );
    const got = await all([tar]);
    expect(got.map((e) => [e.path, e.type, e.size, e.data])).toEqual([
      ["dir", "directory", 0, ""],
      ["dir/f", "file", 3, "abc"],
      ["dir/l", "hardlink", 0, ""], // ustar/v7 hard links carry no data whatever the size says
    ]);
  });

  it("applies pax x over g over the ustar fields, and empty values delete", async () => {
    const tar = concat(
      pax({ mtime: "100.5", uname: "global", uid: "7" }, "g"),
      header({ name: "a" }),
      pax({ mtime: "200", uname: "", path: "renamed/é", "SCHILY.xattr.user.x": "1=2" }),
      header({ name: "b", mtime: 5 }),
      header({ name: "c" }),
      END,
    );
    const [a, b, c] = await all([tar]);
    expect(a).toMatchObject({ path: "a", mtime: 100.5, uname: "global", uid: 7 });
    expect(b).toMatchObject({
      path: "renamed/é",
      mtime: 200,
      uname: "",
      uid: 7,
      xattrs: { "user.x": text("1=2") },
    });
    expect(c).toMatchObject({ path: "c", mtime: 100.5 });
  });

  it("reads GNU long names and links, and base-256 numbers", async () => {
    const long = `${"d/".repeat(100)}file`;
    const target = "t".repeat(150);
    const h = header({ name: "././@LongLink", magic: "gnu", flag: "2" });
    putBase256(h, "uid", 3_000_000);
    putBase256(h, "mtime", -1);
    putChecksum(h);
    const tar = concat(
      header({ name: "././@LongLink", flag: "L", size: long.length + 1, magic: "gnu" }),
      body(text(`${long}\0`)),
      header({ name: "././@LongLink", flag: "K", size: target.length, magic: "gnu" }),
      body(text(target)),
      h,
      END,
    );
    const [e] = await all([tar]);
    expect(e).toMatchObject({
      path: long,
      type: "symlink",
      linkname: target,
      uid: 3_000_000,
      mtime: -1,
    });
  });

  it("reads the ustar prefix, and star's shorter one", async () => {
    const h = header({ name: "name" });
    h.set(text("some/prefix"), 345);
    putChecksum(h);
    const star = header({ name: "name" });
    star.set(text("pre"), 345);
    star.set(text("14567123456\0"), 345 + 131); // atime where the prefix would go on
    star.set(text("tar\0"), 508);
    putChecksum(star);
    expect((await all([h, star, END])).map((e) => e.path)).toEqual([
      "some/prefix/name",
      "pre/name",
    ]);
  });

  it("normalises paths", async () => {
    const names = ["./", "./a//b/", "./c/./d", "e/"];
    const tar = concat(
      ...names.map((name) => header({ name, flag: name.endsWith("/") ? "5" : "0" })),
      END,
    );
    expect((await all([tar])).map((e) => e.path)).toEqual([".", "a/b", "c/d", "e"]);
  });

  it("refuses absolute and climbing paths unless allowed", async () => {
    for (const name of ["/etc/passwd", "../x", "a/../../x", "a/.."]) {
      const e = await error([header({ name }), END]);
      expect(e, name).toBeInstanceOf(TarUnsafePathError);
      expect((e as TarUnsafePathError).path).toBe(name);
    }
    const link = await error([
      header({ name: "ok", flag: "1", linkname: "../../etc/shadow" }),
      END,
    ]);
    expect(link).toBeInstanceOf(TarUnsafePathError);
    expect(link.message).toMatch(/hard link target/);
    const allowed = await all([header({ name: "/etc/passwd" }), header({ name: "../x" }), END], {
      allowUnsafePaths: true,
    });
    expect(allowed.map((e) => e.path)).toEqual(["/etc/passwd", "../x"]);
    // Symlink targets are data, not paths to extract to.
    expect(
      (await all([header({ name: "s", flag: "2", linkname: "../../x" }), END]))[0]?.linkname,
    ).toBe("../../x");
  });

  it("throws TarSyntaxError for truncated archives, never hangs", async () => {
    const tar = await bytesOf(writeTar(entries, { recordSize: 512 }));
    let ok = 0;
    for (let cut = 0; cut < tar.length - 1024; cut += 37) {
      try {
        await all(chunked(tar.subarray(0, cut), 300));
        ok++;
        expect(cut % 512, `cut at ${cut} read without error`).toBe(0);
      } catch (e) {
        expect(e, `cut at ${cut}`).toBeInstanceOf(TarSyntaxError);
        expect((e as TarSyntaxError).offset).toBeLessThanOrEqual(cut);
      }
    }
    expect(ok).toBeGreaterThan(0);
    const e = await error([tar.subarray(0, 512 + 512 + 3)]);
    expect(e.message).toMatch(/ends inside member 'a\/b.txt'|ends at offset/);
  });

  it("caps extended headers", async () => {
    const big = pax({ comment: "c".repeat(2000) });
    const e = await error([big, header({ name: "a" }), END], { maxHeaderSize: 1024 });
    expect(e).toBeInstanceOf(TarSyntaxError);
    expect(e.message).toMatch(/more than the limit of 1024/);
  });

  it("rejects malformed pax records and numbers", async () => {
    const bad = text("99 path=x\n");
    expect(
      await error([
        header({ name: "p", flag: "x", size: bad.length }),
        body(bad),
        header({ name: "a" }),
        END,
      ]),
    ).toBeInstanceOf(TarSyntaxError);
    expect(await error([pax({ size: "-1" }), header({ name: "a" }), END])).toBeInstanceOf(
      TarSyntaxError,
    );
    expect(await error([pax({ mtime: "1e9" }), header({ name: "a" }), END])).toBeInstanceOf(
      TarSyntaxError,
    );
    const h = header({ name: "a" });
    h.set(text("12x4567\0"), 100);
    putChecksum(h);
    expect((await error([h, END])).message).toMatch(/mode field '12x4567\\x00' is not a number/);
    expect((await error([pax({ path: "a" })])).message).toMatch(/after an extended header/);
  });

  it("stops at the first zero block, tolerates a missing end, and drains the rest", async () => {
    const one = await bytesOf(writeTar([{ path: "a", type: "file" }], { recordSize: 512 }));
    expect(await all([one.subarray(0, 512)])).toHaveLength(1);
    let pulled = 0;
    async function* source(drainable: boolean) {
      yield one;
      pulled = 1;
      yield new Uint8Array(10);
      pulled = drainable ? 2 : 3;
    }
    await all(source(true));
    expect(pulled).toBe(2);
    pulled = 0;
    await all(source(false), { drainLimit: 0 });
    expect(pulled).toBe(0);
  });

  it("closes the source when reading stops early", async () => {
    const tar = await bytesOf(writeTar(entries));
    let closed = false;
    async function* source() {
      try {
        yield* chunked(tar, 512);
      } finally {
        closed = true;
      }
    }
    for await (const e of readTar(source())) if (e.path === "a/b.txt") break;
    expect(closed).toBe(true);
  });

  it("reads a Web ReadableStream and cancels it when stopped early", async () => {
    const tar = await bytesOf(writeTar(entries));
    expect((await all(ReadableStream.from(chunked(tar, 1000)))).length).toBe(entries.length);
    let cancelled = false;
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(tar.slice(at, at + 512));
        at += 512;
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const e of readTar(stream)) if (e.path === "a/b.txt") break;
    expect(cancelled).toBe(true);
  });

  it("refuses a source of strings", async () => {
    await expect(all(["not bytes"] as unknown as Uint8Array[])).rejects.toThrow(/yielded a string/);
  });

  it("reads pax hard links that carry data", async () => {
    const tar = await bytesOf(
      writeTar([{ path: "h", type: "hardlink", linkname: "f", body: text("data") }]),
    );
    expect(await all([tar])).toMatchObject([
      { path: "h", type: "hardlink", size: 4, data: "data" },
    ]);
  });

  it("parses octal and base-256 numbers", () => {
    expect(parseNumber(text("0000644\0"))).toBe(0o644);
    expect(parseNumber(text("   644 "))).toBe(0o644);
    expect(parseNumber(text("\0\0\0\0"))).toBe(0);
    expect(parseNumber(new Uint8Array([0x80, 0, 0, 0, 0, 0, 0, 2, 0x40, 0, 0, 0]))).toBe(
      9 * 2 ** 30,
    );
    expect(parseNumber(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]))).toBe(-2);
    expect(parseNumber(text("08"))).toBeUndefined();
    expect(
      parseNumber(
        new Uint8Array([0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      ),
    ).toBeUndefined();
  });
});
