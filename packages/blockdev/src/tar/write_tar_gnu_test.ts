// Archives written by writeTar, read back by the real GNU tar: `tar -tvf`
// lists what we meant and `tar -x` recreates files with identical metadata.
import { lstat, mkdtemp, open, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { collectBytes as bytesOf } from "../collect_bytes.ts";
import { zeroChunks } from "../zeros.ts";
import type { TarWriteEntry } from "./tar_header.ts";
import { writeTar } from "./write_tar.ts";

const haveTar = haveTool("tar", "tar");
// Reads the extracted xattr (Node has no xattr API).
const havePython = haveTar && haveTool("python3", "python3");
let root = "";

beforeAll(async () => {
  if (haveTar) root = await mkdtemp(join(tmpdir(), "tar-write-"));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const text = (s: string) => new TextEncoder().encode(s);
const LONG = `${"a".repeat(120)}/${"b".repeat(200)}`;
const SPLIT = `${"p".repeat(140)}/${"q".repeat(90)}`;
const TARGET = `../${"t".repeat(200)}`;

async function* streamed(n: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < n; at += 777) yield new Uint8Array(Math.min(777, n - at)).fill(at & 0xff);
}

const ENTRIES: TarWriteEntry[] = [
  { path: ".", type: "directory", mode: 0o755, mtime: 1_700_000_000 },
  {
    path: "boot",
    type: "directory",
    mode: 0o700,
    mtime: 1_700_000_001,
    uid: 1000,
    gid: 100,
    uname: "me",
    gname: "users",
  },
  {
    path: "boot/grub.cfg",
    type: "file",
    mode: 0o644,
    mtime: 1_700_000_002.25,
    body: text("set timeout=5\n"),
  },
  {
    path: "boot/stream.bin",
    type: "file",
    size: 100_000,
    body: streamed(100_000),
    mtime: 1_600_000_000,
  },
  { path: "boot/link", type: "hardlink", linkname: "boot/grub.cfg", mtime: 1_700_000_002 },
  { path: "sym", type: "symlink", linkname: "boot/grub.cfg", mtime: 1_500_000_000 },
  { path: "longsym", type: "symlink", linkname: TARGET, mtime: 1_500_000_000 },
  { path: "a".repeat(120), type: "directory", mtime: 1 },
  { path: LONG, type: "file", body: text("long\n"), mode: 0o4755, mtime: 2 },
  { path: "p".repeat(140), type: "directory", mtime: 3 },
  { path: SPLIT, type: "file", body: text("split\n"), mode: 0o2711, mtime: 4 },
  {
    path: "日本語-é.txt",
    type: "file",
    body: text("utf-8\n"),
    uid: 3_000_000,
    gid: 4_000_000,
    mtime: 5,
  },
  { path: "tmp", type: "directory", mode: 0o1777, mtime: 6 },
  { path: "null", type: "char", devmajor: 1, devminor: 3, mode: 0o666, mtime: 7 },
  { path: "sda", type: "block", devmajor: 8, devminor: 0, mode: 0o660, mtime: 8 },
  { path: "fifo", type: "fifo", mode: 0o600, mtime: -3600 },
  {
    path: "xattr",
    type: "file",
    body: text("x"),
    xattrs: { "user.k": new Uint8Array([1, 0, 10, 255]) },
    mtime: 9,
  },
  { path: "empty", type: "file", mtime: 10 },
];

describe.skipIf(!haveTar)("writeTar read by GNU tar", () => {
  it("is listed by tar -tvf and extracted by tar -x with identical metadata", async () => {
    const archive = join(root, "out.tar");
    const bytes = await bytesOf(writeTar(ENTRIES));
    expect(bytes.length % 10240).toBe(0);
    await writeFile(archive, bytes);

    const list = await execa(
      "tar",
      ["-tvf", archive, "--numeric-owner", "--full-time", "--quoting-style=literal"],
      {
        reject: false,
        env: { TZ: "UTC", LC_ALL: "C.UTF-8" },
      },
    );
    expect(list.stderr).toBe("");
    expect(list.exitCode).toBe(0);
    const lines = list.stdout.split("\n");
    expect(lines).toHaveLength(ENTRIES.length);
    expect(lines[0]).toMatch(/^drwxr-xr-x 0\/0 +0 2023-11-14 22:13:20 \.\/$/);
    expect(lines[1]).toMatch(/^drwx------ 1000\/100 +0 2023-11-14 22:13:21 boot\/$/);
    expect(lines[2]).toMatch(/^-rw-r--r-- 0\/0 +14 2023-11-14 22:13:22.25 boot\/grub.cfg$/);
    expect(lines[4]).toMatch(/^hrw-r--r-- 0\/0 +0 .* boot\/link link to boot\/grub.cfg$/);
    expect(lines[6]).toMatch(/^lrwxrwxrwx .* longsym -> \.\.\/t{200}$/);
    expect(lines[8]).toMatch(/^-rwsr-xr-x .* a{120}\/b{200}$/);
    expect(lines[10]).toMatch(/^-rwx--s--x .* p{140}\/q{90}$/);
    expect(lines[11]).toMatch(/^-rw-r--r-- 3000000\/4000000 +6 .* 日本語-é.txt$/);
    expect(lines[12]).toMatch(/^drwxrwxrwt /);
    expect(lines[13]).toMatch(/^crw-rw-rw- 0\/0 +1,3 .* null$/);
    expect(lines[14]).toMatch(/^brw-rw---- 0\/0 +8,0 .* sda$/);
    expect(lines[15]).toMatch(/^prw------- 0\/0 +0 1969-12-31 23:00:00 +fifo$/);

    const dir = join(root, "x");
    await execa("mkdir", [dir]);
    const x = await execa(
      "tar",
      [
        "-xf",
        archive,
        "-C",
        dir,
        "--same-owner",
        "--same-permissions",
        "--xattrs",
        "--xattrs-include=*",
        "--numeric-owner",
      ],
      { reject: false, env: { TZ: "UTC" } },
    );
    // GNU tar warns about (but restores) times before 1970.
    expect(x.stderr).toBe("tar: fifo: implausibly old time stamp 1969-12-31 23:00:00");
    expect(x.exitCode).toBe(0);
    for (const e of ENTRIES) {
      const p = join(dir, e.path);
      const st = await lstat(p, { bigint: true });
      const kind = {
        file: "isFile",
        directory: "isDirectory",
        symlink: "isSymbolicLink",
        hardlink: "isFile",
        char: "isCharacterDevice",
        block: "isBlockDevice",
        fifo: "isFIFO",
      } as const;
      expect(st[kind[e.type]](), e.path).toBe(true);
      if (e.type !== "symlink" && e.type !== "hardlink") {
        expect(Number(st.mode & 0o7777n), e.path).toBe(
          e.mode ?? (e.type === "directory" ? 0o755 : 0o644),
        );
        expect(Number(st.uid), e.path).toBe(e.uid ?? 0);
        expect(Number(st.gid), e.path).toBe(e.gid ?? 0);
        if (e.type !== "directory") {
          const m = e.mtime ?? 0;
          const want =
            BigInt(Math.floor(m)) * 1_000_000_000n + BigInt(Math.round((m - Math.floor(m)) * 1e9));
          expect(st.mtimeNs, e.path).toBe(want);
        }
      }
      if (e.type === "symlink") expect(await readlink(p)).toBe(e.linkname);
      if (e.type === "char" || e.type === "block")
        expect(Number(st.rdev)).toBe((e.devmajor ?? 0) * 256 + (e.devminor ?? 0));
      if (e.body instanceof Uint8Array) expect(new Uint8Array(await readFile(p))).toEqual(e.body);
    }
    expect((await readFile(join(dir, "boot/stream.bin"))).length).toBe(100_000);
    const link = await lstat(join(dir, "boot/link"));
    expect(link.ino).toBe((await lstat(join(dir, "boot/grub.cfg"))).ino);
    if (havePython) {
      const xa = await execa("python3", [
        "-c",
        `import os,sys; sys.stdout.write(os.getxattr(${JSON.stringify(join(dir, "xattr"))}, "user.k").hex())`,
      ]);
      expect(xa.stdout).toBe("01000aff");
    }
  });

  it("writes a 9 GiB size header that GNU tar lists", async () => {
    const size = 9 * 2 ** 30;
    const it = writeTar([
      { path: "big.img", type: "file", size, body: zeroChunks(size), mtime: 1_700_000_000 },
    ]);
    const header = (await it.next()).value as Uint8Array;
    await it.return(undefined);
    // Only the header: tar lists the member, then reports the missing data.
    const list = await execa("tar", ["-tv", "--numeric-owner", "--full-time"], {
      input: Buffer.from(header),
      reject: false,
      env: { TZ: "UTC" },
    });
    expect(list.stdout).toMatch(/^-rw-r--r-- 0\/0 +9663676416 2023-11-14 22:13:20 big.img$/);
    expect(list.stderr).toMatch(/Unexpected EOF/);
  });

  it("writes a 9 GiB sparse member that GNU tar extracts with holes", async () => {
    const size = 9 * 2 ** 30 + 5;
    async function* file(): AsyncGenerator<Uint8Array> {
      yield* zeroChunks(2 ** 20);
      yield new Uint8Array(4096).fill(0x61);
      yield* zeroChunks(size - 2 ** 20 - 4096 - 5);
      yield text("tail\n");
    }
    const sparse = [
      { offset: 2 ** 20, length: 4096 },
      { offset: size - 5, length: 5 },
    ];
    const archive = join(root, "sparse.tar");
    const bytes = await bytesOf(
      writeTar([{ path: "img/disk.img", type: "file", size, sparse, body: file(), mtime: 5 }]),
    );
    expect(bytes.length).toBe(10240);
    await writeFile(archive, bytes);
    const list = await execa("tar", ["-tvf", archive, "--numeric-owner"], {
      reject: false,
      env: { TZ: "UTC" },
    });
    expect(list.stderr).toBe("");
    expect(list.stdout).toMatch(/^-rw-r--r-- 0\/0 +9663676421 1970-01-01 00:00 img\/disk.img$/);
    const dir = join(root, "sparse");
    await execa("mkdir", [dir]);
    const x = await execa("tar", ["-xf", archive, "-C", dir], { reject: false });
    expect(x.stderr).toBe("");
    expect(x.exitCode).toBe(0);
    const path = join(dir, "img/disk.img");
    const st = await lstat(path);
    expect(st.size).toBe(size);
    expect(st.blocks * 512).toBeLessThan(1 << 20); // holes, not 9 GiB of zeros
    const fd = await open(path, "r");
    const at = async (offset: number, n: number) => {
      const buf = Buffer.alloc(n);
      await fd.read(buf, 0, n, offset);
      return buf.toString("latin1");
    };
    expect(await at(2 ** 20 - 1, 3)).toBe("\0aa");
    expect(await at(2 ** 20 + 4095, 2)).toBe("a\0");
    expect(await at(size - 6, 6)).toBe("\0tail\n");
    await fd.close();
  });
});
