import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { DeviceRangeError, MemoryDevice } from "@bigfile/blockdev";
import type { CliIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTools } from "../../../../test/harness/tools.ts";
import { main } from "../cli.ts";
import { debugfs, mkfsFromTree, scratch } from "./_fixtures_test_util.ts";
import { checkFilesystem } from "./check_filesystem.ts";
import { ExtCorruptionError, ExtPathError, ExtUnsupportedError } from "./errors.ts";
import { FilesystemReader } from "./filesystem_reader.ts";

/** A deterministic xorshift generator, so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

interface Region {
  kind: string;
  start: number;
  length: number;
}

/** The byte ranges worth mutating: superblock, descriptors, bitmaps, inode tables, directories, indirect and extent blocks. */
async function regions(bytes: Uint8Array): Promise<Region[]> {
  const fs = await FilesystemReader.open(new MemoryDevice(bytes.slice()));
  const sb = fs.superblock;
  const bs = sb.blockSize;
  const out: Region[] = [{ kind: "superblock", start: 1024, length: 1024 }];
  out.push({
    kind: "descriptors",
    start: (sb.firstDataBlock + 1) * bs,
    length: Math.min(bs, fs.groups.length * sb.descSize),
  });
  for (const g of fs.groups.slice(0, 2)) {
    out.push({ kind: "block bitmap", start: g.blockBitmap * bs, length: bs });
    out.push({ kind: "inode bitmap", start: g.inodeBitmap * bs, length: bs });
  }
  if (fs.journal?.replayed) {
    const journal = await fs.inode(sb.journalInum);
    const first = await fs.runs(journal, 4).next();
    if (!first.done) {
      for (let i = 0; i < 3; i++)
        out.push({ kind: "journal", start: first.value.physical * bs, length: 4 * bs });
    }
  }
  const g0 = fs.groups[0];
  if (g0) out.push({ kind: "inode table", start: g0.inodeTable * bs, length: 64 * sb.inodeSize });
  for await (const entry of fs.walk("/")) {
    if (entry.stat.type !== "directory" && entry.stat.type !== "file") continue;
    const inode = await fs.inode(entry.ino);
    for await (const run of fs.runs(inode, undefined, (block) =>
      out.push({ kind: "map block", start: block * bs, length: bs }),
    )) {
      if (entry.stat.type === "directory")
        out.push({ kind: "directory", start: run.physical * bs, length: run.length * bs });
    }
  }
  return out;
}

const ALLOWED = [ExtCorruptionError, ExtUnsupportedError, ExtPathError, DeviceRangeError];

const seen = new Map<string, number>();
let replayed = 0;

function expectAllowed(error: unknown, context: string): void {
  const name = (error as Error)?.name ?? "?";
  seen.set(name, (seen.get(name) ?? 0) + 1);
  const ok = ALLOWED.some((kind) => error instanceof kind);
  if (!ok) throw new Error(`${context}: unexpected ${(error as Error)?.stack ?? String(error)}`);
}

/** Everything a user can do with an image, in process, bounded in bytes read. */
async function exercise(bytes: Uint8Array, context: string): Promise<void> {
  let fs: FilesystemReader;
  try {
    fs = await FilesystemReader.open(new MemoryDevice(bytes));
    if (fs.journal?.replayed) replayed++;
  } catch (error) {
    expectAllowed(error, `${context} open`);
    return;
  }
  let budget = 32 << 20;
  try {
    for await (const entry of fs.walk("/", {
      onError: (_path, error) => expectAllowed(error, `${context} walk`),
    })) {
      try {
        await fs.xattrs(entry.ino);
        if (entry.stat.type === "symlink") await fs.readlinkInode(entry.ino);
        if (entry.stat.type === "file" && budget > 0) {
          for await (const chunk of fs.fileChunks(entry.ino)) {
            budget -= chunk.length;
            if (budget <= 0) break;
          }
        }
      } catch (error) {
        expectAllowed(error, `${context} read ${entry.path}`);
      }
    }
  } catch (error) {
    expectAllowed(error, `${context} walk`);
  }
  for (const path of ["/boot/vmlinuz", "/etc/../etc/hostname", "/nope"]) {
    try {
      await fs.stat(path);
    } catch (error) {
      expectAllowed(error, `${context} stat ${path}`);
    }
  }
  try {
    await checkFilesystem(fs);
  } catch (error) {
    expectAllowed(error, `${context} check`);
  }
}

/** A CliIo whose stdout accepts up to `cap` bytes, then fails as a closed pipe would. */
function cappedIo(cap: number): CliIo & { stderrText(): string } {
  let written = 0;
  const err: Buffer[] = [];
  const stdout = new Writable({
    write(chunk: Buffer, _enc, done) {
      written += chunk.length;
      done(written > cap ? Object.assign(new Error("closed"), { code: "EPIPE" }) : null);
    },
  });
  stdout.on("error", () => {});
  const stderr = new Writable({
    write(chunk: Buffer, _enc, done) {
      err.push(chunk);
      done();
    },
  });
  const io = {
    stdin: process.stdin,
    stdout,
    stderr,
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env: {},
    cwd: process.cwd(),
    stderrText: () => Buffer.concat(err).toString("utf8"),
  };
  return io;
}

const canRun = haveTools(["mke2fs", "debugfs", "python3"]);

describe.skipIf(!canRun)(
  "fuzz: mutated images end in a clear error, never a hang or a crash",
  () => {
    const tmp = scratch("ext3fs-fuzz-");
    const bases: { name: string; bytes: Uint8Array; regions: Region[] }[] = [];
    beforeAll(async () => {
      const tree = join(tmp.dir, "tree");
      mkdirSync(join(tree, "etc", "sub"), { recursive: true });
      mkdirSync(join(tree, "boot"));
      writeFileSync(join(tree, "etc", "hostname"), "fuzz\n");
      writeFileSync(join(tree, "boot", "vmlinuz-1"), new Uint8Array(300_000).fill(0x5a));
      writeFileSync(join(tree, "etc", "sub", "medium"), new Uint8Array(20_000).fill(1));
      for (let i = 0; i < 60; i++) writeFileSync(join(tree, "etc", `f${i}`), `${i}`);
      symlinkSync("vmlinuz-1", join(tree, "boot", "vmlinuz"));
      await execa("python3", [
        "-c",
        `import os; os.setxattr("${join(tree, "etc", "hostname")}", "user.a", b"v" * 100)`,
      ]);
      symlinkSync(`/etc/${"l".repeat(70)}`, join(tree, "long"));
      const kinds = [
        { type: "ext2", blockSize: 1024 },
        { type: "ext3", blockSize: 1024 },
        { type: "ext4", blockSize: 4096 },
      ] as const;
      for (const kind of kinds) {
        const image = join(tmp.dir, `${kind.type}.img`);
        await mkfsFromTree(image, tree, { ...kind, size: kind.blockSize === 1024 ? "3M" : "8M" });
        if (kind.type === "ext3") {
          // Leave a committed transaction in the journal, so replay is fuzzed too.
          const block = Number((await debugfs(image, "bmap /etc/hostname 0")).stdout.trim());
          writeFileSync(join(tmp.dir, "block"), new Uint8Array(kind.blockSize).fill(0x41));
          await execa("debugfs", ["-w", "-f", "-", image], {
            input: `jo\njw -b ${block} ${join(tmp.dir, "block")}\njc\n`,
          });
        }
        const bytes = new Uint8Array(await readFile(image));
        bases.push({
          name: `${kind.type}-${kind.blockSize}`,
          bytes,
          regions: await regions(bytes),
        });
        await rm(image);
      }
    }, 60_000);
    afterAll(() => tmp.cleanup());

    it("survives 900 in-process mutations (each under 3 s)", async () => {
      let slowest = 0;
      for (const base of bases) {
        for (let i = 0; i < 300; i++) {
          const seed = i * 7919 + base.bytes.length;
          const random = rng(seed);
          const region = base.regions[Math.floor(random() * base.regions.length)] as Region;
          const bytes = base.bytes.slice();
          const flips = 1 + Math.floor(random() * 8);
          for (let f = 0; f < flips; f++) {
            const at = region.start + Math.floor(random() * region.length);
            const how = random();
            bytes[at] =
              how < 0.4
                ? (bytes[at] ?? 0) ^ (1 << Math.floor(random() * 8))
                : how < 0.7
                  ? Math.floor(random() * 256)
                  : how < 0.85
                    ? 0xff
                    : 0;
          }
          const started = performance.now();
          await exercise(bytes, `${base.name} seed ${seed} (${region.kind})`);
          const took = performance.now() - started;
          slowest = Math.max(slowest, took);
          expect(took, `${base.name} seed ${seed} (${region.kind}) took ${took} ms`).toBeLessThan(
            3000,
          );
        }
      }
      console.log(
        `fuzz: slowest in-process run ${slowest.toFixed(0)} ms; errors met: ${JSON.stringify(Object.fromEntries(seen))}`,
      );
      expect(seen.get("ExtCorruptionError") ?? 0).toBeGreaterThan(50);
      expect(replayed).toBeGreaterThan(0);
    }, 120_000);

    it("the CLI exits 0 or 1 with one line and no stack on mutated images", async () => {
      const commands = [
        ["info"],
        ["ls", "-l", "/etc"],
        ["stat", "/boot/vmlinuz"],
        ["check"],
        ["cat", "/boot/vmlinuz"],
        ["extract", "--tar"],
      ];
      const image = join(tmp.dir, "mutated.img");
      for (let i = 0; i < 60; i++) {
        const base = bases[i % bases.length] as (typeof bases)[number];
        const random = rng(1000 + i);
        const region = base.regions[Math.floor(random() * base.regions.length)] as Region;
        const bytes = base.bytes.slice();
        for (let f = 0; f < 4; f++)
          bytes[region.start + Math.floor(random() * region.length)] = Math.floor(random() * 256);
        await writeFile(image, bytes);
        const [command, ...rest] = commands[i % commands.length] as string[];
        const args = [command as string, image, ...rest];
        const io = cappedIo(16 << 20);
        const started = performance.now();
        const code = await main(args, io);
        const took = performance.now() - started;
        const stderr = io.stderrText();
        const context = `${base.name} ${args.join(" ")} (${region.kind}): exit ${code}, ${took.toFixed(0)} ms, stderr ${stderr}`;
        expect([0, 1], context).toContain(code);
        expect(stderr, context).not.toMatch(/^\s+at /m);
        expect(took, context).toBeLessThan(5000);
        if (code === 1 && command !== "extract" && command !== "check") {
          expect(
            stderr
              .trim()
              .split("\n")
              .filter((l) => !l.includes("warning")).length,
            context,
          ).toBe(1);
        }
      }
    }, 120_000);
  },
);
