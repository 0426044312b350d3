// Describing a source tree and a filesystem tree the same way, to compare them.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { FilesystemReader, ReaderStat } from "./filesystem_reader.ts";

export type TreeFacts = Map<string, Record<string, unknown>>;

export function sourceType(st: import("node:fs").Stats): string {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char-device";
  if (st.isBlockDevice()) return "block-device";
  if (st.isFIFO()) return "fifo";
  return "socket";
}

/** Every path of a source tree with what the reader must give back for it. */
export function describeSource(root: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const visit = (rel: string) => {
    const full = rel === "" ? root : join(root, rel);
    const st = lstatSync(full, { bigint: true });
    const type = sourceType(lstatSync(full));
    const facts: Record<string, unknown> = {
      type,
      mode: Number(st.mode),
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtime: Number(st.mtimeNs / 1_000_000_000n),
      ino: Number(st.ino),
      links: Number(st.nlink),
    };
    if (type === "file") {
      facts.size = Number(st.size);
      facts.sha = createHash("sha256").update(readFileSync(full)).digest("hex");
    }
    if (type === "symlink") facts.target = readlinkSync(full);
    if (type === "char-device" || type === "block-device") facts.rdev = Number(st.rdev);
    out.set(`/${rel}`.replace(/\/$/, "") || "/", facts);
    if (type === "directory")
      for (const name of readdirSync(full)) visit(rel === "" ? name : `${rel}/${name}`);
  };
  visit("");
  return out;
}

export async function describeImage(
  fs: FilesystemReader,
): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  for await (const entry of fs.walk("/")) {
    if (entry.path === "/lost+found") continue;
    const st: ReaderStat = entry.stat;
    const facts: Record<string, unknown> = {
      type: st.type,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      mtime: st.mtime.seconds,
      ino: st.ino,
      links: st.links,
    };
    if (st.type === "file") {
      facts.size = st.size;
      const hash = createHash("sha256");
      for await (const chunk of fs.fileChunks(st.ino)) hash.update(chunk);
      facts.sha = hash.digest("hex");
    }
    if (st.type === "symlink") facts.target = await fs.readlinkInode(st.ino);
    if (st.rdev)
      facts.rdev = st.rdev.major * 256 + (st.rdev.minor & 0xff) + (st.rdev.minor & ~0xff) * 4096;
    out.set(entry.path, facts);
  }
  return out;
}

/** Compares everything but inode numbers, which must only group the same way. */
export function expectSameTree(
  image: Map<string, Record<string, unknown>>,
  source: Map<string, Record<string, unknown>>,
): void {
  const strip = (m: Map<string, Record<string, unknown>>, ignoreRootLinks: boolean) =>
    Object.fromEntries(
      [...m].map(([path, { ino: _ino, ...facts }]) => [
        path,
        path === "/" && ignoreRootLinks ? { ...facts, links: "ignored", mtime: "ignored" } : facts,
      ]),
    );
  expect(strip(image, true)).toEqual(strip(source, true));
  // Hard links: paths sharing a source inode share an image inode.
  const groups = (m: Map<string, Record<string, unknown>>) => {
    const byIno = new Map<unknown, string[]>();
    for (const [path, facts] of m) byIno.set(facts.ino, [...(byIno.get(facts.ino) ?? []), path]);
    return [...byIno.values()]
      .filter((g) => g.length > 1)
      .map((g) => g.sort().join(","))
      .sort();
  };
  expect(groups(image)).toEqual(groups(source));
}
