import { closeSync, ftruncateSync, openSync } from "node:fs";
import { readTar, type TarEntry, writeToFd } from "@bigfile/blockdev";
import { FileContent } from "./_content_file.ts";
import { applyMeta, type SourceOwnership } from "./_dir_source_file.ts";
import {
  type FsNode,
  lookupNode,
  type NodeKind,
  newDir,
  placeNode,
  splitPath,
  type Timestamp,
} from "./tree.ts";

/** A temporary sparse file that holds tar bodies until their blocks are written. */
export class Spool {
  readonly path: string;
  #fd: number;
  #end = 0;

  /** Creates the spool file at `path` (removed by the caller). */
  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, "wx+", 0o600);
  }

  /** Copies a body into the spool; returns its offset (4 KiB aligned). Zero 4 KiB blocks stay holes. */
  async add(body: AsyncIterable<Uint8Array>, size: number): Promise<number> {
    const base = this.#end;
    const { bytes } = await writeToFd(body, this.#fd, { positional: true, offset: base });
    if (bytes !== size) {
      throw new RangeError(
        `Cannot read tar member: its body has ${bytes} bytes, expected ${size} (truncated tar?)`,
      );
    }
    this.#end = base + Math.ceil(size / 4096) * 4096;
    ftruncateSync(this.#fd, this.#end);
    return base;
  }

  /** Closes the spool file descriptor. */
  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}

const KIND: Record<string, NodeKind> = {
  file: "file",
  directory: "dir",
  symlink: "symlink",
  char: "char",
  block: "block",
  fifo: "fifo",
};

function time(seconds: number | undefined, fallback: Timestamp): Timestamp {
  if (seconds === undefined || !Number.isFinite(seconds)) return fallback;
  const s = Math.floor(seconds);
  return { seconds: s, nanoseconds: Math.min(999_999_999, Math.round((seconds - s) * 1e9)) };
}

/**
 * Reads a tar stream into `root` (overlaying what is there), spooling file
 * bodies into `spool`. Parent directories the archive does not list are
 * created (0755, root-owned). Hard links point at the earlier member's node.
 */
export async function addTarSource(
  root: FsNode,
  source: AsyncIterable<Uint8Array>,
  label: string,
  spool: Spool,
  own: SourceOwnership,
): Promise<void> {
  const encoder = new TextEncoder();
  const makeDir = () => newDir(0o755, 0, 0, own.createTime);
  for await (const entry of readTar(source) as AsyncIterable<TarEntry>) {
    const path = splitPath(encoder.encode(entry.path));
    const where = `${label}:${entry.path}`;
    if (entry.type === "hardlink") {
      const target = lookupNode(root, splitPath(encoder.encode(entry.linkname)));
      if (!target)
        throw new RangeError(
          `Cannot link ${where}: ${entry.linkname} is not earlier in the archive`,
        );
      if (target.kind === "dir")
        throw new RangeError(`Cannot link ${where}: ${entry.linkname} is a directory`);
      if (path.length === 0) continue;
      placeNode(root, path, target, makeDir);
      if (entry.size > 0 && target.kind === "file") {
        const offset = await spool.add(entry.body, entry.size);
        target.size = entry.size;
        target.content = new FileContent(spool.path, where, offset);
        target.maybeSparse = true;
        delete target.dataRuns;
      }
      continue;
    }
    const kind = KIND[entry.type];
    if (!kind) continue;
    const mtime = time(entry.mtime, own.createTime);
    const node: FsNode = {
      kind,
      perm: entry.mode & 0o7777,
      uid: entry.uid,
      gid: entry.gid,
      mtime,
      atime: time(entry.atime, mtime),
      ctime: time(entry.ctime, mtime),
      size: kind === "file" ? entry.size : 0,
    };
    if (kind === "dir") node.children = new Map();
    if (kind === "symlink") node.target = encoder.encode(entry.linkname);
    if (kind === "char" || kind === "block") {
      node.major = entry.devmajor;
      node.minor = entry.devminor;
    }
    if (kind === "file") {
      const offset = entry.size > 0 ? await spool.add(entry.body, entry.size) : 0;
      node.content = new FileContent(spool.path, where, offset);
      node.maybeSparse = true;
    }
    applyMeta(node, own);
    if (path.length === 0 && kind !== "dir")
      throw new RangeError(`Cannot use ${where}: the root is not a directory`);
    placeNode(root, path, node, makeDir);
  }
}
