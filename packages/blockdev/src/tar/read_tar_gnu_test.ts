// Reads archives made by the real GNU tar and checks every member against
// `tar --list --verbose --numeric-owner --full-time` and the source tree.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { collectBytes as bytesOf } from "../collect_bytes.ts";
import { readTar } from "./read_tar.ts";
import type { TarEntry, TarHeader } from "./tar_header.ts";

const haveTar = haveTool("tar", "tar");
// Sets the xattr that --format=pax must carry (Node has no xattr API).
const havePython = haveTar && haveTool("python3", "python3");
let root = "";

async function sh(cmd: string, args: string[]): Promise<void> {
  const r = await execa(cmd, args, { reject: false, cwd: root });
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
}

const LONG_DIR = `long-${"d".repeat(120)}`;
const LONG_FILE = `${LONG_DIR}/${"f".repeat(180)}`;
const SPLIT_DIR = `split/${"s".repeat(90)}`;
const SPLIT_FILE = `${SPLIT_DIR}/${"n".repeat(90)}`;
const LONG_TARGET = `../${"t".repeat(150)}`;
const UTF8 = "é-ü-日本.txt";

const BASE = [
  ".",
  "sub",
  "sub/file.txt",
  "sub/hard",
  "sym",
  "empty",
  "block512",
  "random",
  UTF8,
  "sticky",
  "sgid",
];
const USTAR = [...BASE, "dev", "dev/null", "dev/sda1", "fifo", "split", SPLIT_DIR, SPLIT_FILE];
const GNU = [...USTAR, LONG_DIR, LONG_FILE, "longsym", "bigids", "old"];
const PAX = havePython ? [...GNU, "xattr"] : GNU;
const MEMBERS: Record<string, string[]> = { v7: BASE, ustar: USTAR, gnu: GNU, pax: PAX };

beforeAll(async () => {
  if (!haveTar) return;
  root = await mkdtemp(join(tmpdir(), "tar-gnu-"));
  await sh("mkdir", ["-p", "sub", "sticky", "sgid", "dev", LONG_DIR, SPLIT_DIR]);
  await writeFile(join(root, "sub/file.txt"), "hello, tar\n");
  await sh("chmod", ["4755", "sub/file.txt"]);
  await sh("touch", ["-d", "@1577934245.123456789", "sub/file.txt"]);
  await sh("ln", ["sub/file.txt", "sub/hard"]);
  await sh("ln", ["-s", "sub/file.txt", "sym"]);
  await sh("ln", ["-s", LONG_TARGET, "longsym"]);
  await sh("touch", ["-h", "-d", "@1000000000.5", "sym"]);
  await writeFile(join(root, "empty"), "");
  await writeFile(join(root, "block512"), new Uint8Array(512).fill(0x42));
  const random = new Uint8Array(100_000);
  for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + (i >> 8)) & 0xff;
  await writeFile(join(root, "random"), random);
  await writeFile(join(root, UTF8), "utf-8\n");
  await writeFile(join(root, LONG_FILE), "long\n");
  await writeFile(join(root, SPLIT_FILE), "split\n");
  await writeFile(join(root, "bigids"), "ids\n");
  await sh("chown", ["3000000:3000001", "bigids"]);
  await writeFile(join(root, "xattr"), "x\n");
  if (havePython)
    await sh("python3", [
      "-c",
      'import os; os.setxattr("xattr", "user.bigfile", b"v\\n\\x00\\xff")',
    ]);
  await sh("chmod", ["1777", "sticky"]);
  await sh("chmod", ["2755", "sgid"]);
  await sh("mknod", ["dev/null", "c", "1", "3"]);
  await sh("mknod", ["dev/sda1", "b", "8", "1"]);
  await sh("mkfifo", ["fifo"]);
  await writeFile(join(root, "old"), "");
  await sh("touch", ["-d", "@-86400", "old"]); // before 1970: base-256 in gnu
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

interface Listed {
  mode: string;
  owner: string;
  size: string;
  time: number;
  name: string;
  link?: string;
}

function normal(name: string): string {
  const n = name.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  return n === "" || n === "." ? "." : n;
}

/** Parses `tar -tv --numeric-owner --full-time` lines (TZ=UTC). */
function parseListing(text: string): Listed[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((line) => {
      const m =
        /^(\S{10}) (\d+\/\d+)\s+(\S+) (-?\d+-\d\d-\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?\s+(.*)$/.exec(
          line,
        );
      if (!m) throw new Error(`Cannot parse tar listing line: ${line}`);
      const [, mode, owner, size, date, hh, mm, ss, frac, rest] = m as unknown as string[];
      const time =
        Date.parse(`${date}T${hh}:${mm}:${ss}Z`) / 1000 + (frac ? Number(`0${frac}`) : 0);
      let name = rest as string;
      let link: string | undefined;
      if (mode?.startsWith("l")) [name, link] = name.split(" -> ") as [string, string];
      else if (mode?.startsWith("h")) {
        [name, link] = name.split(" link to ") as [string, string];
        link = normal(link);
      }
      const out: Listed = {
        mode: mode as string,
        owner: owner as string,
        size: size as string,
        time,
        name: normal(name),
      };
      if (link !== undefined) out.link = link;
      return out;
    });
}

const TYPE_CHAR: Record<string, string> = {
  file: "-",
  directory: "d",
  symlink: "l",
  hardlink: "h",
  char: "c",
  block: "b",
  fifo: "p",
};

function modeString(e: TarHeader): string {
  const m = e.mode;
  const rwx = (shift: number, special: boolean, s: string) =>
    `${m & (4 << shift) ? "r" : "-"}${m & (2 << shift) ? "w" : "-"}${special ? (m & (1 << shift) ? s : s.toUpperCase()) : m & (1 << shift) ? "x" : "-"}`;
  return `${TYPE_CHAR[e.type]}${rwx(6, (m & 0o4000) !== 0, "s")}${rwx(3, (m & 0o2000) !== 0, "s")}${rwx(0, (m & 0o1000) !== 0, "t")}`;
}

async function tarList(archive: string): Promise<Listed[]> {
  const r = await execa(
    "tar",
    [
      "--list",
      "--verbose",
      "--numeric-owner",
      "--full-time",
      "--quoting-style=literal",
      "-f",
      archive,
    ],
    { reject: false, env: { TZ: "UTC", LC_ALL: "C.UTF-8" } },
  );
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  return parseListing(r.stdout);
}

async function readAll(archive: string): Promise<Array<TarEntry & { data: Uint8Array }>> {
  const out: Array<TarEntry & { data: Uint8Array }> = [];
  const { createReadStream } = await import("node:fs");
  for await (const entry of readTar(createReadStream(archive, { highWaterMark: 4096 + 17 }))) {
    out.push({ ...entry, data: await bytesOf(entry.body) });
  }
  return out;
}

describe.skipIf(!haveTar)("readTar on archives made by GNU tar", () => {
  for (const format of ["gnu", "pax", "ustar", "v7"]) {
    it(`reads --format=${format} with every field as tar --list shows it`, async () => {
      const archive = join(root, `../${root.split("/").pop()}-${format}.tar`);
      const args = [`--format=${format}`, "--no-recursion", "-C", root, "-cf", archive];
      if (format === "pax") args.push("--xattrs", "--xattrs-include=user.*");
      const made = await execa("tar", [...args, ...(MEMBERS[format] as string[])], {
        reject: false,
      });
      try {
        expect(made.stderr).toBe("");
        expect(made.exitCode).toBe(0);
        const listed = await tarList(archive);
        const entries = await readAll(archive);
        expect(entries.map((e) => e.path)).toEqual(listed.map((l) => l.name));
        expect(entries.map((e) => e.path)).toEqual((MEMBERS[format] as string[]).map(normal));
        for (const [i, e] of entries.entries()) {
          const l = listed[i] as Listed;
          expect(modeString(e), e.path).toBe(l.mode);
          expect(`${e.uid}/${e.gid}`, e.path).toBe(l.owner);
          expect(
            e.type === "char" || e.type === "block"
              ? `${e.devmajor},${e.devminor}`
              : String(e.size),
            e.path,
          ).toBe(l.size);
          expect(
            Math.abs(e.mtime - l.time),
            `${e.path} mtime ${e.mtime} vs ${l.time}`,
          ).toBeLessThan(1e-6);
          if (e.type === "symlink" || e.type === "hardlink")
            expect(e.linkname, e.path).toBe(l.link);
          else expect(e.linkname).toBe("");
          if (e.type === "file") {
            expect(Buffer.from(e.data).equals(await readFile(join(root, e.path))), e.path).toBe(
              true,
            );
          } else expect(e.data.length).toBe(0);
          if (format !== "v7") expect(e.uname).toBe(e.uid === 0 ? "root" : "");
          else expect(e.uname).toBe("");
        }
        const byPath = new Map(entries.map((e) => [e.path, e]));
        expect(byPath.get("sub/file.txt")?.mtime).toBe(
          format === "pax" ? 1577934245.1234567 : 1577934245,
        );
        if (format === "pax" && havePython) {
          expect(byPath.get("xattr")?.xattrs).toEqual({
            "user.bigfile": new Uint8Array([0x76, 0x0a, 0x00, 0xff]),
          });
          expect(byPath.get("sub/file.txt")?.atime).toBeTypeOf("number");
        }
        if (format === "gnu" || format === "pax") {
          expect(byPath.get("bigids")).toMatchObject({ uid: 3000000, gid: 3000001 });
          expect(byPath.get("longsym")?.linkname).toBe(LONG_TARGET);
          expect(byPath.get("old")?.mtime).toBe(-86400);
        }
      } finally {
        await rm(archive, { force: true });
      }
    });
  }
});

const haveBusybox = haveTar && haveTool("busybox", "busybox-static");

describe.skipIf(!haveBusybox)("readTar on archives made by busybox tar", () => {
  it("reads every member as GNU tar lists it", async () => {
    const archive = join(root, `../${root.split("/").pop()}-busybox.tar`);
    // busybox tar takes no member list with --no-recursion: archive a copy of the base tree.
    const made = await execa(
      "busybox",
      ["tar", "-cf", archive, "sub", "sym", "empty", "random", UTF8, SPLIT_DIR, LONG_DIR, "dev"],
      {
        reject: false,
        cwd: root,
      },
    );
    try {
      expect(made.stderr).toBe("");
      expect(made.exitCode).toBe(0);
      const listed = await tarList(archive);
      const entries = await readAll(archive);
      expect(entries.map((e) => e.path)).toEqual(listed.map((l) => l.name));
      expect(entries.map((e) => e.path)).toContain(LONG_FILE);
      for (const [i, e] of entries.entries()) {
        const l = listed[i] as Listed;
        expect(modeString(e), e.path).toBe(l.mode);
        expect(`${e.uid}/${e.gid}`, e.path).toBe(l.owner);
        expect(
          e.type === "char" || e.type === "block" ? `${e.devmajor},${e.devminor}` : String(e.size),
          e.path,
        ).toBe(l.size);
        expect(e.mtime, e.path).toBe(l.time);
        if (e.type === "symlink" || e.type === "hardlink") expect(e.linkname, e.path).toBe(l.link);
        if (e.type === "file")
          expect(Buffer.from(e.data).equals(await readFile(join(root, e.path))), e.path).toBe(true);
      }
    } finally {
      await rm(archive, { force: true });
    }
  });
});
