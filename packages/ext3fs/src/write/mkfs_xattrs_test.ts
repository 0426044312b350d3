import { copyFileSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readTar, writeTar } from "@bigfile/blockdev";
import { readFile, writeToFile } from "@bigfile/blockdev/node";
import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithTools, haveTool } from "../../../../test/harness/tools.ts";
import { openImageFile } from "../read/open_image_file.ts";
import { tarStream } from "../read/tar_stream.ts";
import { fsckProblems } from "./_fsck_test_util.ts";
import { type MkfsOptions, type MkfsSource, mkfs } from "./mkfs.ts";

// Extended attributes from tar sources: GNU tar's pax SCHILY.xattr records
// (set with setfattr on real files), stored in the inode when they fit and in
// an attribute block otherwise; e2fsck and debugfs are the oracles.

const text = (t: string) => new TextEncoder().encode(t);
/** A file capability (VFS_CAP_REVISION_2, cap_net_raw permitted and effective), as setcap writes it. */
const CAPABILITY = Buffer.from("AQAAAgAgAAAAAAAAAAAAAAAAAAA=", "base64");
/** What each path of the fixture carries. */
const EXPECTED: Record<string, Record<string, Uint8Array>> = {
  "/small": { "user.comment": text("hello") },
  "/big": { "user.a": text("v".repeat(300)), "trusted.t": text("tt") },
  "/ping": { "security.capability": CAPABILITY },
  "/d": { "user.dir": text("dirval") },
  "/d/f": {},
  "/": { "user.root": text("top") },
};

let work = "";
let src = "";
let gnuTar = "";

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ext3fs-xattrs-"));
  src = join(work, "src");
  await mkdir(join(src, "d"), { recursive: true });
  await writeFile(join(src, "small"), "hi\n");
  await writeFile(join(src, "big"), "big\n");
  copyFileSync("/bin/true", join(src, "ping"));
  await writeFile(join(src, "d", "f"), "x\n");
  for (const [path, xattrs] of Object.entries(EXPECTED)) {
    for (const [name, value] of Object.entries(xattrs)) {
      const r = await execa(
        "setfattr",
        ["-n", name, "-v", `0x${Buffer.from(value).toString("hex")}`, join(src, path)],
        { reject: false },
      );
      expect(r.exitCode, r.stderr).toBe(0);
    }
  }
  gnuTar = join(work, "gnu.tar");
  const t = await execa(
    "tar",
    ["--xattrs", "--xattrs-include=*", "--format=posix", "-C", src, "-cf", gnuTar, "."],
    { reject: false },
  );
  expect(t.exitCode, t.stderr).toBe(0);
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function build(
  name: string,
  sources: readonly MkfsSource[],
  options: MkfsOptions,
): Promise<string> {
  const path = join(work, `${name}.img`);
  await writeToFile(
    (await mkfs(sources, { size: 8 << 20, seed: "xattrs", ...options })).chunks(),
    path,
  );
  return path;
}

/** debugfs's ea_list of `path`, as name -> value (its quoted text or its hex bytes). */
async function debugfsXattrs(image: string, path: string): Promise<Record<string, string>> {
  const r = await execa("debugfs", ["-R", `ea_list ${path}`, image]);
  const out: Record<string, string> = {};
  for (const m of r.stdout.matchAll(/^\s+(\S+) \((\d+)\)(?: = (.*))?$/gm)) {
    out[m[1] as string] = m[3] ?? `(${m[2]} bytes)`;
  }
  return out;
}

/** What debugfs prints for a value: text in quotes, else hex bytes; long values by size only. */
function shown(value: Uint8Array): string {
  if (value.length > 40) return `(${value.length} bytes)`;
  const printable = value.every((b) => b >= 0x20 && b < 0x7f);
  if (printable) return `"${new TextDecoder().decode(value)}"`;
  return `${Array.from(value, (b) => b.toString(16).padStart(2, "0")).join(" ")} `;
}

async function fileAcl(image: string, path: string): Promise<number> {
  const r = await execa("debugfs", ["-R", `stat ${path}`, image]);
  return Number(/File ACL: (\d+)/.exec(r.stdout)?.[1]);
}

/** The paths that carry attributes. */
const WITH_XATTRS = Object.keys(EXPECTED).filter((p) => Object.keys(EXPECTED[p] ?? {}).length > 0);

const CONFIGS: { name: string; options: MkfsOptions; inBlock: string[] }[] = [
  { name: "ext3", options: { type: "ext3" }, inBlock: ["/big"] },
  { name: "ext4", options: { type: "ext4" }, inBlock: ["/big"] },
  {
    name: "ext4-old",
    options: { type: "ext4", features: "^metadata_csum,^64bit" },
    inBlock: ["/big"],
  },
  { name: "ext2-4k", options: { type: "ext2", blockSize: 4096 }, inBlock: ["/big"] },
  // No room after 128 bytes: every set goes to a block.
  { name: "ext3-128", options: { type: "ext3", inodeSize: 128 }, inBlock: WITH_XATTRS },
  { name: "ext4-128", options: { type: "ext4", inodeSize: 128 }, inBlock: WITH_XATTRS },
];

describeWithTools(
  [
    ["setfattr", "attr"],
    ["tar", "tar"],
    ["e2fsck", "e2fsprogs"],
    ["debugfs", "e2fsprogs"],
  ],
  "mkfs stores extended attributes from tar sources",
  () => {
    for (const { name, options, inBlock } of CONFIGS) {
      it(`${name}: e2fsck clean, debugfs and our reader see GNU tar's attributes, both writers agree`, async () => {
        const tree = await build(`${name}-tree`, [gnuTar], { ...options, writer: "tree" });
        const walk = await build(`${name}-walk`, [gnuTar], { ...options, writer: "walk" });
        expect(readFileSync(walk).equals(readFileSync(tree))).toBe(true);
        const stream = await build(
          `${name}-stream`,
          [{ kind: "tar-stream", stream: readFile(gnuTar) }],
          options,
        );
        expect(readFileSync(stream).equals(readFileSync(tree))).toBe(true);
        const f = await fsckProblems(tree);
        expect(f.problems, f.output).toEqual([]);
        expect(f.exitCode).toBe(0);
        const image = await openImageFile(tree);
        try {
          for (const [path, xattrs] of Object.entries(EXPECTED)) {
            const want = Object.fromEntries(Object.entries(xattrs).map(([n, v]) => [n, shown(v)]));
            expect(await debugfsXattrs(tree, path), path).toEqual(want);
            const st = await image.reader.lstat(path);
            const ours = await image.reader.xattrs(st.ino);
            expect(
              Object.fromEntries(ours.map((x) => [x.name, Buffer.from(x.value).toString("hex")])),
            ).toEqual(
              Object.fromEntries(
                Object.entries(xattrs).map(([n, v]) => [n, Buffer.from(v).toString("hex")]),
              ),
            );
            const block = await fileAcl(tree, path);
            expect(block > 0, `${path}'s attribute block`).toBe(inBlock.includes(path));
          }
        } finally {
          await image.close();
        }
      });
    }

    it("reads directory sources' attributes (blockdev's addon): the same as from GNU tar, both writers, and says so without the addon", async () => {
      for (const type of ["ext4", "ext3"] as const) {
        const tree = await build(`dir-${type}-tree`, [src], { type, writer: "tree" });
        const walk = await build(`dir-${type}-walk`, [src], { type, writer: "walk" });
        expect(readFileSync(walk).equals(readFileSync(tree))).toBe(true);
        const f = await fsckProblems(tree);
        expect(f.problems, f.output).toEqual([]);
        for (const [path, xattrs] of Object.entries(EXPECTED)) {
          const want = Object.fromEntries(Object.entries(xattrs).map(([n, v]) => [n, shown(v)]));
          expect(await debugfsXattrs(tree, path), path).toEqual(want);
        }
      }
      const notes: string[] = [];
      const saved = process.env.BIGFILE_NO_NATIVE;
      process.env.BIGFILE_NO_NATIVE = "1";
      try {
        const without = await build("dir-no-addon", [src], { log: (m) => notes.push(m) });
        expect(await debugfsXattrs(without, "/small")).toEqual({});
      } finally {
        if (saved === undefined) delete process.env.BIGFILE_NO_NATIVE;
        else process.env.BIGFILE_NO_NATIVE = saved;
      }
      expect(notes.filter((n) => n.includes("native addon is not built"))).toHaveLength(1);
    });

    it("lays attributes out as mke2fs -d does, in a block and in the inode (hash fields aside: mke2fs leaves them 0)", async () => {
      if (!haveTool("mke2fs", "e2fsprogs")) return;
      /** The bytes of `path`'s inode and of its attribute block in `image`. */
      const raw = async (image: string, path: string, bs: number) => {
        const where = (await execa("debugfs", ["-R", `imap ${path}`, image])).stdout;
        const m = /located at block (\d+), offset 0x([0-9a-f]+)/.exec(where);
        const bytes = readFileSync(image);
        const at = Number(m?.[1]) * bs + Number.parseInt(m?.[2] ?? "", 16);
        const acl = await fileAcl(image, path);
        return {
          inode: bytes.subarray(at, at + 256),
          block: acl ? bytes.subarray(acl * bs, acl * bs + bs) : undefined,
        };
      };
      for (const inodeSize of [128, 256]) {
        const theirs = join(work, `mke2fs-${inodeSize}.img`);
        await writeFile(theirs, "");
        const r = await execa(
          "mke2fs",
          [
            "-q",
            "-F",
            "-t",
            "ext4",
            "-b",
            "1024",
            "-I",
            String(inodeSize),
            "-d",
            src,
            theirs,
            "8M",
          ],
          { reject: false },
        );
        expect(r.exitCode, r.stderr).toBe(0);
        const ours = await build(`ours-${inodeSize}`, [src], {
          type: "ext4",
          inodeSize,
          blockSize: 1024,
        });
        for (const path of ["/big", "/ping", "/small"]) {
          const a = await raw(ours, path, 1024);
          const b = await raw(theirs, path, 1024);
          if (inodeSize === 256 && path !== "/big") {
            // In-inode: magic, entries, values; only e_hash (bytes 12-15 of the entry) differs.
            const mask = (x: Buffer) => {
              const y = Buffer.from(x.subarray(160, inodeSize));
              y.fill(0, 4 + 12, 4 + 16);
              return y.toString("hex");
            };
            expect(mask(a.inode), path).toBe(mask(b.inode));
            expect(a.block, path).toBeUndefined();
          }
          if (inodeSize === 128 || path === "/big") {
            expect(a.block && b.block, path).toBeTruthy();
            // The whole block but h_hash and h_checksum (bytes 12-19).
            const mask = (x: Buffer) => {
              const y = Buffer.from(x);
              y.fill(0, 12, 20);
              return y.toString("hex");
            };
            expect(mask(a.block as Buffer), path).toBe(mask(b.block as Buffer));
          }
        }
      }
    });

    it("the capability round-trips byte for byte (debugfs ea_get), and ext3fs tar writes the records back", async () => {
      const image = await build("cap", [gnuTar], { type: "ext4" });
      const out = join(work, "cap.bin");
      await execa("debugfs", ["-R", `ea_get -f ${out} /ping security.capability`, image]);
      expect(readFileSync(out).equals(CAPABILITY)).toBe(true);
      const opened = await openImageFile(image);
      const back = join(work, "back.tar");
      try {
        await writeToFile(tarStream(opened.reader, "/"), back);
      } finally {
        await opened.close();
      }
      const seen: Record<string, Record<string, string>> = {};
      const hex = (r: Record<string, Uint8Array> | undefined) =>
        Object.fromEntries(
          Object.entries(r ?? {}).map(([n, v]) => [n, Buffer.from(v).toString("hex")]),
        );
      for await (const entry of readTar(readFile(back))) {
        if (entry.path === "lost+found") continue;
        seen[entry.path === "." ? "/" : `/${entry.path}`] = hex(entry.xattrs);
      }
      expect(seen).toEqual(
        Object.fromEntries(Object.entries(EXPECTED).map(([p, x]) => [p, hex(x)])),
      );
      // And GNU tar restores them onto real files.
      const restored = join(work, "restored");
      await mkdir(restored);
      const x = await execa(
        "tar",
        ["--xattrs", "--xattrs-include=*", "-xf", back, "-C", restored],
        { reject: false },
      );
      expect(x.exitCode, x.stderr).toBe(0);
      const g = await execa("getfattr", [
        "-e",
        "hex",
        "-n",
        "user.comment",
        join(restored, "small"),
      ]);
      expect(g.stdout).toContain(`user.comment=0x${Buffer.from("hello").toString("hex")}`);
    });

    it("converts POSIX ACLs to ext4's form (debugfs gives back the kernel's form) and leaves out names ext4 cannot store, with a note", async () => {
      // version 2; USER_OBJ rw-, USER 1000 r--, GROUP_OBJ r--, MASK r--, OTHER ---
      const acl = Buffer.alloc(4 + 5 * 8);
      acl.writeUInt32LE(2, 0);
      const entries: [number, number, number][] = [
        [0x01, 6, 0xffffffff],
        [0x02, 4, 1000],
        [0x04, 4, 0xffffffff],
        [0x10, 4, 0xffffffff],
        [0x20, 0, 0xffffffff],
      ];
      entries.forEach(([tag, perm, id], i) => {
        acl.writeUInt16LE(tag, 4 + i * 8);
        acl.writeUInt16LE(perm, 6 + i * 8);
        acl.writeUInt32LE(id, 8 + i * 8);
      });
      const tar = join(work, "acl.tar");
      await writeToFile(
        writeTar([
          {
            path: "acl",
            type: "file",
            body: text("a\n"),
            size: 2,
            xattrs: {
              "system.posix_acl_access": acl,
              "system.nfs4_acl": text("x"),
              "user.ok": text("1"),
            },
          },
        ]),
        tar,
      );
      const notes: string[] = [];
      for (const options of [{ type: "ext4" }, { type: "ext3", inodeSize: 128 }] as MkfsOptions[]) {
        const image = await build(`acl-${options.inodeSize ?? 256}`, [tar], {
          ...options,
          log: (m) => notes.push(m),
        });
        const f = await fsckProblems(image);
        expect(f.problems, f.output).toEqual([]);
        const out = join(work, "acl.bin");
        await execa("debugfs", ["-R", `ea_get -f ${out} /acl system.posix_acl_access`, image]);
        // e2fsprogs gives the entries without an id id 0 where the kernel has -1.
        const undefinedIdsZero = Buffer.from(acl);
        entries.forEach(([tag], i) => {
          if (tag !== 0x02 && tag !== 0x08) undefinedIdsZero.writeUInt32LE(0, 8 + i * 8);
        });
        expect(readFileSync(out).toString("hex")).toBe(undefinedIdsZero.toString("hex"));
        const opened = await openImageFile(image);
        try {
          const ours = await opened.reader.xattrs((await opened.reader.lstat("/acl")).ino);
          expect(ours.find((x) => x.name === "system.posix_acl_access")?.value).toEqual(
            new Uint8Array(acl),
          );
        } finally {
          await opened.close();
        }
        expect(Object.keys(await debugfsXattrs(image, "/acl")).sort()).toEqual([
          "system.posix_acl_access",
          "user.ok",
        ]);
      }
      expect(notes.filter((n) => n.includes("system.nfs4_acl"))).toHaveLength(2);
      expect(notes.find((n) => n.includes("system.nfs4_acl"))).toContain("acl.tar:acl");
    });

    it("puts what does not fit the inode in a block, and refuses a set too big for one block", async () => {
      const many: Record<string, Uint8Array> = {};
      for (let i = 0; i < 20; i++) many[`user.k${i}`] = text(`value-${i}`.repeat(3));
      const huge = { "user.huge": new Uint8Array(1500).fill(0x61) };
      const tar = join(work, "many.tar");
      await writeToFile(
        writeTar([
          { path: "many", type: "file", body: text("m\n"), size: 2, xattrs: many },
          { path: "empty", type: "file", size: 0, xattrs: { "user.e": new Uint8Array(0) } },
          { path: "dir", type: "directory", xattrs: huge },
        ]),
        tar,
      );
      const image = await build("many", [tar], { type: "ext4", blockSize: 4096 });
      const f = await fsckProblems(image);
      expect(f.problems, f.output).toEqual([]);
      expect(Object.keys(await debugfsXattrs(image, "/many")).sort()).toEqual(
        Object.keys(many).sort(),
      );
      expect(await fileAcl(image, "/many")).toBeGreaterThan(0);
      expect(await debugfsXattrs(image, "/empty")).toEqual({ "user.e": "(0 bytes)" });
      expect(await fileAcl(image, "/empty")).toBe(0);
      expect(await debugfsXattrs(image, "/dir")).toEqual({ "user.huge": "(1500 bytes)" });
      const walk = await build("many-walk", [tar], {
        type: "ext4",
        blockSize: 4096,
        writer: "walk",
      });
      expect(readFileSync(walk).equals(readFileSync(image))).toBe(true);
      await expect(mkfs([tar], { size: 8 << 20, blockSize: 1024 })).rejects.toThrow(
        /Cannot store the extended attributes of \/dir: they need \d+ bytes, a block holds 1024/,
      );
    });
  },
);
