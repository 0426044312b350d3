import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MemoryDevice } from "@bigfile/blockdev";
import { FileDevice } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTools } from "../../../../test/harness/tools.ts";
import { main } from "../cli.ts";
import { debugfs, isRoot, makeTree, mkfsFromTree, scratch } from "./_fixtures_test_util.ts";
import { describeImage, describeSource, expectSameTree } from "./_tree_test_util.ts";
import { FilesystemReader } from "./filesystem_reader.ts";

async function run(args: string[], stdin?: Uint8Array) {
  const io = memoryIo(stdin ? { stdin } : {});
  const code = await main(args, io);
  return { code, stdout: io.stdoutText(), bytes: io.stdoutBytes(), stderr: io.stderrText() };
}

/** dumpe2fs -h as label -> value. */
async function dumpe2fs(image: string): Promise<Map<string, string>> {
  const result = await execa("dumpe2fs", ["-h", image], { reject: false });
  const out = new Map<string, string>();
  for (const line of String(result.stdout).split("\n")) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m) out.set((m[1] as string).trim(), (m[2] as string).trim());
  }
  return out;
}

const canRun = haveTools([
  "mke2fs",
  "debugfs",
  "dumpe2fs",
  "e2fsck",
  "tar",
  "sfdisk",
  "python3",
  "setcap",
]);

describe.skipIf(!canRun)("ext3fs read commands", () => {
  const tmp = scratch();
  const tree = join(tmp.dir, "tree");
  const ext3 = join(tmp.dir, "ext3.img");
  const ext4 = join(tmp.dir, "ext4.img");
  beforeAll(async () => {
    makeTree(tree);
    await mkfsFromTree(ext3, tree, { type: "ext3", blockSize: 1024, size: "24M" });
    await mkfsFromTree(ext4, tree, { type: "ext4", blockSize: 4096, size: "24M" });
  });
  afterAll(() => tmp.cleanup());

  it("info agrees with dumpe2fs -h", async () => {
    for (const image of [ext3, ext4]) {
      const ours = await run(["info", image]);
      expect(ours.code).toBe(0);
      const mine = new Map<string, string>();
      for (const line of ours.stdout.split("\n")) {
        const m = /^([^:]+):\s*(.*)$/.exec(line);
        if (m) mine.set((m[1] as string).trim(), (m[2] as string).trim());
      }
      const theirs = await dumpe2fs(image);
      for (const label of [
        "Filesystem UUID",
        "Filesystem magic number",
        "Filesystem features",
        "Filesystem state",
        "Inode count",
        "Block count",
        "Reserved block count",
        "Free blocks",
        "Free inodes",
        "First block",
        "Block size",
        "Reserved GDT blocks",
        "Blocks per group",
        "Inodes per group",
        "Inode blocks per group",
        "First inode",
        "Inode size",
        "Journal inode",
        "Default directory hash",
        "Directory Hash Seed",
        "Total journal blocks",
        "Journal sequence",
        "Journal start",
        "Default mount options",
        "Filesystem flags",
      ]) {
        expect([label, mine.get(label)]).toEqual([label, theirs.get(label)]);
      }
      const json = JSON.parse((await run(["info", image, "--json"])).stdout);
      expect(json.blockCount).toBe(Number(theirs.get("Block count")));
      expect(json.journal.needsRecovery).toBe(false);
    }
  });

  it("ls lists what debugfs lists", async () => {
    const ours = await run(["ls", ext4, "/many"]);
    expect(ours.code).toBe(0);
    const theirs = await debugfs(ext4, "ls -p /many");
    const names = theirs.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("/")[5] as string)
      .filter((n) => n !== "." && n !== "..")
      .sort();
    expect(ours.stdout.trim().split("\n").sort()).toEqual(names);
    const long = await run(["ls", "-l", ext3, "/boot"]);
    expect(long.stdout).toMatch(/^lrwxrwxrwx +1 +\S+ +\S+ +11 .* vmlinuz -> vmlinuz-6\.1$/m);
    const json = JSON.parse((await run(["ls", "--json", ext3, "/"])).stdout) as {
      name: string;
      type: string;
    }[];
    expect(json.find((e) => e.name === "long-link")?.type).toBe("symlink");
  });

  it("cat gives the bytes debugfs cat gives, through symlinks", async () => {
    for (const image of [ext3, ext4]) {
      const ours = await run(["cat", image, "/boot/vmlinuz"]);
      expect(ours.code).toBe(0);
      const theirs = await execa("debugfs", ["-R", "cat /boot/vmlinuz-6.1", image], {
        encoding: "buffer",
        reject: false,
      });
      expect(Buffer.from(ours.bytes).equals(Buffer.from(theirs.stdout))).toBe(true);
      const sparse = await run(["cat", image, "/sparse"]);
      expect(Buffer.from(sparse.bytes).equals(readFileSync(join(tree, "sparse")))).toBe(true);
    }
  });

  it("stat reports the inode", async () => {
    const text = await run(["stat", ext4, "/boot/vmlinuz"]);
    expect(text.stdout).toContain("File: /boot/vmlinuz -> vmlinuz-6.1");
    const json = JSON.parse((await run(["stat", ext4, "/etc/hostname", "--json"])).stdout);
    expect(json.permissions).toBe("04755");
    expect(json.links).toBe(2);
    expect(json.size).toBe(8);
    const deref = JSON.parse((await run(["stat", "-L", ext4, "/boot/vmlinuz", "--json"])).stdout);
    expect(deref.size).toBe(300_000);
    expect(deref.runs.length).toBeGreaterThan(0);
  });

  it("extracts a tree identical to the source, and a subtree", async () => {
    for (const image of [ext3, ext4]) {
      const out = join(tmp.dir, `out-${image.endsWith("ext3.img") ? 3 : 4}`);
      const result = await run(["extract", image, out]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const got = describeSource(out);
      got.delete("/lost+found");
      expectSameTree(got, describeSource(tree));
      // Holes stay holes.
      expect(lstatSync(join(out, "sparse")).blocks * 512).toBeLessThan(64 * 1024);
    }
    const sub = join(tmp.dir, "sub");
    expect((await run(["extract", ext4, sub, "--path", "/etc/deep"])).code).toBe(0);
    expect(readFileSync(join(sub, "er", "still", "medium")).length).toBe(13 * 1024 + 5);
  });

  it("writes a tar archive that GNU tar extracts to the same tree", async () => {
    const archive = join(tmp.dir, "tree.tar");
    const result = await run(["extract", ext4, "--tar", archive]);
    expect(result.code).toBe(0);
    const out = join(tmp.dir, "from-tar");
    mkdirSync(out);
    const tar = await execa("tar", ["-x", "-p", "--numeric-owner", "-f", archive, "-C", out], {
      reject: false,
    });
    expect(tar.stderr).toBe("");
    expect(tar.exitCode).toBe(0);
    const got = describeSource(out);
    got.delete("/lost+found");
    expectSameTree(got, describeSource(tree));
    const list = await execa("tar", ["-tvf", archive], { reject: false });
    expect(String(list.stdout)).toMatch(/^hrwsr-xr-x .* \.\/hardlink link to \.\/etc\/hostname$/m);
  });

  it("reads a partition of a disk image and an image on standard input", async () => {
    const disk = join(tmp.dir, "disk.img");
    const fsBytes = await readFile(ext3);
    const handle = await open(disk, "w");
    await handle.write(fsBytes, 0, fsBytes.length, 2048 * 512);
    await handle.truncate(2048 * 512 + fsBytes.length + 4096);
    await handle.close();
    const sfdisk = await execa("sfdisk", [disk], {
      input: `label: dos\nstart=2048, size=${fsBytes.length / 512}, type=83\n`,
      reject: false,
    });
    expect(sfdisk.exitCode).toBe(0);
    const ls = await run(["ls", disk, "/boot", "--partition", "1"]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain("vmlinuz-6.1");
    const bare = await run(["ls", disk]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/superblock magic is 0x0000.*--partition/);
    const missing = await run(["ls", disk, "--partition", "2"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Cannot find partition 2/);
    const stdin = await run(["cat", "-", "/etc/hostname"], fsBytes);
    expect(stdin.stdout).toBe("bigfile\n");
  });

  it("fails with one line, no stack, for bad paths and bad images", async () => {
    const nope = await run(["cat", ext3, "/nope"]);
    expect(nope.code).toBe(1);
    expect(nope.stderr).toBe(`ext3fs: ${ext3}: Cannot find '/nope' in the filesystem\n`);
    const dir = await run(["cat", ext3, "/etc"]);
    expect(dir.stderr).toMatch(/is a directory/);
    const junk = join(tmp.dir, "junk.img");
    writeFileSync(junk, new Uint8Array(4096).fill(7));
    const bad = await run(["info", junk]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    const truncated = join(tmp.dir, "truncated.img");
    writeFileSync(truncated, (await readFile(ext3)).subarray(0, 1 << 20));
    const cut = await run(["ls", truncated]);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/truncated/);
  });

  it("notes a needs_recovery flag over an empty journal", async () => {
    const image = join(tmp.dir, "recover.img");
    writeFileSync(image, readFileSync(ext3));
    expect((await debugfs(image, "feature needs_recovery", true)).exitCode).toBe(0);
    const ls = await run(["ls", image]);
    expect(ls.code).toBe(0);
    expect(ls.stderr).toMatch(/needing journal recovery, but its journal holds nothing to replay/);
    // A note, not damage: e2fsck -fn exits 0 here too.
    expect((await execa("e2fsck", ["-fn", image], { reject: false })).exitCode).toBe(0);
    const check = await run(["check", image]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^note: The journal needs recovery/m);
    expect(check.stdout).toMatch(/: clean \(1 note\)/);
  });

  for (const kind of [
    { type: "ext3", blockSize: 1024 },
    { type: "ext4", blockSize: 4096 },
  ] as const) {
    it(`replays a journal in memory as e2fsck would (${kind.type})`, async () => {
      const image = join(tmp.dir, `journal-${kind.type}.img`);
      await mkfsFromTree(image, tree, { ...kind, size: "24M" });
      const block = Number((await debugfs(image, "bmap /etc/hostname 0")).stdout.trim());
      const fresh = new Uint8Array(kind.blockSize);
      fresh.set(new TextEncoder().encode("journaled\n"));
      const blockFile = join(tmp.dir, `block-${kind.type}`);
      writeFileSync(blockFile, fresh);
      // Write the block through the journal only: the home block keeps the old bytes.
      const jw = await execa("debugfs", ["-w", "-f", "-", image], {
        input: `jo\njw -b ${block} ${blockFile}\njc\n`,
        reject: false,
      });
      expect(jw.exitCode).toBe(0);
      expect((await debugfs(image, "cat /etc/hostname")).stdout).toBe("bigfile");
      const ours = await run(["cat", image, "/etc/hostname"]);
      expect(ours.code).toBe(0);
      // The file keeps its size (8 bytes): the first 8 bytes of the new block.
      expect(ours.stdout).toBe("journale");
      expect(ours.stderr).toMatch(/replayed 1 journal transaction\(s\) in memory/);
      // e2fsck replays it for real on a copy: the same bytes come out.
      const copy = join(tmp.dir, `journal-${kind.type}-fsck.img`);
      writeFileSync(copy, readFileSync(image));
      await execa("e2fsck", ["-fy", copy], { reject: false });
      expect((await debugfs(copy, "cat /etc/hostname")).stdout).toBe("journale");
      const stale = await FilesystemReader.open(await FileDevice.open(image, { readOnly: true }), {
        replayJournal: false,
      });
      expect(new TextDecoder().decode(await stale.readFile("/etc/hostname"))).toBe("bigfile\n");
      await stale.device.close();
    });
  }

  it("check passes the clean images", async () => {
    for (const image of [ext3, ext4]) {
      const result = await run(["check", image]);
      expect(result.stdout).toMatch(/: clean,/);
      expect(result.code).toBe(0);
    }
  });

  it("extraction never writes outside its target and reports what it cannot create", async () => {
    const image = join(tmp.dir, "hostile.img");
    const src = join(tmp.dir, "hostile-src");
    mkdirSync(join(src, "d"), { recursive: true });
    writeFileSync(join(src, "d", "passwd"), "owned\n");
    writeFileSync(join(src, "a_b"), "slash\n");
    await mkfsFromTree(image, src, { type: "ext2", blockSize: 1024, size: "4M" });
    const outside = join(tmp.dir, "outside");
    mkdirSync(outside);
    // A symlink "s" to a directory outside, then a directory "t" holding "passwd",
    // renamed to "s" below: a second "s" whose child would land outside through the link.
    expect((await debugfs(image, `symlink s ${outside}`, true)).exitCode).toBe(0);
    expect((await debugfs(image, "mkdir t", true)).exitCode).toBe(0);
    expect(
      (await debugfs(image, `write ${join(src, "d", "passwd")} t/passwd`, true)).exitCode,
    ).toBe(0);
    // Rename a_b to "a/b" and t to s by patching name bytes in the directory block.
    const device = await FileDevice.open(image);
    const fs = await FilesystemReader.open(device);
    const root = await fs.dirEntries(2);
    const ab = root.find((e) => e.name === "a_b");
    const t = root.find((e) => e.name === "t");
    expect(ab && t).toBeTruthy();
    await device.write((ab?.offset ?? 0) + 8 + 1, new Uint8Array([0x2f]));
    await device.write((t?.offset ?? 0) + 8, new Uint8Array([0x73]));
    await device.close();
    const out = join(tmp.dir, "hostile-out");
    const result = await run(["extract", image, out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\/a\/b: the name is not valid/);
    expect(result.stderr).toMatch(/\/s: the name already exists/);
    expect(existsSync(join(outside, "passwd"))).toBe(false);
    expect(lstatSync(join(out, "s")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(out, "d", "passwd"), "utf8")).toBe("owned\n");
  });

  it("reports devices it cannot create without root", async () => {
    if (isRoot) return; // as root they are created (covered by the tree comparison)
    const out = join(tmp.dir, "nonroot");
    const result = await run(["extract", ext3, out]);
    expect(result.code).toBe(1);
  });

  it("reads from a memory device too", async () => {
    const fs = await FilesystemReader.open(new MemoryDevice(new Uint8Array(await readFile(ext4))));
    const facts = await describeImage(fs);
    expect(facts.get("/etc/hostname")?.size).toBe(8);
  });

  it("archives extended attributes (in-inode and in a block) that GNU tar restores", async () => {
    const src = join(tmp.dir, "xattr-src");
    mkdirSync(src);
    writeFileSync(join(src, "ping"), "binary\n");
    writeFileSync(join(src, "note"), "text\n");
    const py = (code: string) => execa("python3", ["-c", code], { reject: false });
    const set = await py(
      `import os; os.setxattr("${join(src, "note")}", "user.comment", b"hello"); os.setxattr("${join(src, "ping")}", "user.big", b"x" * 300)`,
    );
    expect(set.exitCode).toBe(0);
    expect(
      (await execa("setcap", ["cap_net_raw+ep", join(src, "ping")], { reject: false })).exitCode,
    ).toBe(0);
    for (const kind of [
      { type: "ext4", blockSize: 4096, inodeSize: 256 },
      { type: "ext3", blockSize: 1024, inodeSize: 128 },
    ] as const) {
      const image = join(tmp.dir, `xattr-${kind.type}.img`);
      await mkfsFromTree(image, src, { ...kind, size: "8M" });
      const device = await FileDevice.open(image, { readOnly: true });
      const fs = await FilesystemReader.open(device);
      const names = (await fs.xattrs((await fs.lstat("/ping")).ino)).map((x) => x.name).sort();
      await device.close();
      expect(names).toEqual(["security.capability", "user.big"]);
      const archive = join(tmp.dir, `xattr-${kind.type}.tar`);
      expect((await run(["extract", image, "--tar", archive])).code).toBe(0);
      const out = join(tmp.dir, `xattr-out-${kind.type}`);
      mkdirSync(out);
      const tar = await execa(
        "tar",
        ["--xattrs", "--xattrs-include=*", "-x", "-f", archive, "-C", out],
        { reject: false },
      );
      expect(tar.stderr).toBe("");
      const got = await py(
        `import os; print(os.getxattr("${join(out, "note")}", "user.comment").decode(), len(os.getxattr("${join(out, "ping")}", "user.big")))`,
      );
      expect(String(got.stdout).trim()).toBe("hello 300");
      const cap = await execa("getcap", [join(out, "ping")], { reject: false });
      expect(String(cap.stdout)).toMatch(/cap_net_raw[=+]ep/);
    }
  });

  it("extracts a 1 TiB sparse file at the cost of what it stores", async () => {
    const src = join(tmp.dir, "huge-src");
    mkdirSync(src);
    const handle = await open(join(src, "huge"), "w");
    await handle.write(new TextEncoder().encode("tail!"), 0, 5, 2 ** 40 - 5);
    await handle.close();
    const image = join(tmp.dir, "huge.img");
    await mkfsFromTree(image, src, { type: "ext4", blockSize: 4096, size: "16M" });
    const out = join(tmp.dir, "huge-out");
    const started = performance.now();
    const result = await run(["extract", image, out]);
    expect(result.code).toBe(0);
    expect(performance.now() - started).toBeLessThan(5000);
    const st = lstatSync(join(out, "huge"));
    expect(st.size).toBe(2 ** 40);
    expect(st.blocks * 512).toBeLessThan(1 << 20);
    const tail = Buffer.alloc(5);
    const fd = await open(join(out, "huge"), "r");
    await fd.read(tail, 0, 5, 2 ** 40 - 5);
    await fd.close();
    expect(tail.toString()).toBe("tail!");
  });
});
