import { closeSync, ftruncateSync, openSync } from "node:fs";
import { readTar, type TarEntry } from "@bigfile/blockdev";
import { writeToFd } from "@bigfile/blockdev/node";
import { applyMeta, type SourceOwnership, TreeLimitError } from "./_dir_source_file.ts";
import { type FsTree, NodeKind, splitPath, TimeField, type Timestamp } from "./_tree.ts";
import { storableXattrs } from "./_xattrs.ts";

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
  file: NodeKind.FILE,
  directory: NodeKind.DIR,
  symlink: NodeKind.SYMLINK,
  char: NodeKind.CHAR,
  block: NodeKind.BLOCK,
  fifo: NodeKind.FIFO,
};

function setTime(
  tree: FsTree,
  n: number,
  field: TimeField,
  seconds: number | undefined,
  fallback: Timestamp,
): Timestamp {
  let t = fallback;
  if (seconds !== undefined && Number.isFinite(seconds)) {
    const s = Math.floor(seconds);
    t = { seconds: s, nanoseconds: Math.min(999_999_999, Math.round((seconds - s) * 1e9)) };
  }
  tree.setTime(n, field, t.seconds, t.nanoseconds);
  return t;
}

/** A node for a tar member (not a hard link): metadata, symlink target, device numbers. */
function nodeFromTarEntry(
  tree: FsTree,
  entry: TarEntry,
  kind: NodeKind,
  own: SourceOwnership,
  where: string,
): number {
  const node = tree.newNode(kind, entry.mode, entry.uid, entry.gid);
  const mtime = setTime(tree, node, TimeField.MTIME, entry.mtime, own.createTime);
  setTime(tree, node, TimeField.ATIME, entry.atime, mtime);
  setTime(tree, node, TimeField.CTIME, entry.ctime, mtime);
  if (kind === NodeKind.SYMLINK) tree.setTarget(node, ENCODER.encode(entry.linkname));
  if (kind === NodeKind.CHAR || kind === NodeKind.BLOCK)
    tree.setDevice(node, entry.devmajor ?? 0, entry.devminor ?? 0);
  applyMeta(tree, node, own);
  if (entry.xattrs) {
    const xattrs = storableXattrs(entry.xattrs, own, where);
    if (xattrs.length > 0) tree.xattrs.set(node, xattrs);
  }
  return node;
}

/**
 * A tar member other than a hard link as a node of `tree`, its body copied
 * into `spool` (undefined for kinds ext3 does not store). `path`: its name
 * parts; `where`: the tar and the path, for messages.
 */
export async function tarMemberNode(
  tree: FsTree,
  entry: TarEntry,
  path: readonly Uint8Array[],
  where: string,
  spool: Spool,
  own: SourceOwnership,
): Promise<{ node: number; kind: NodeKind; offset: number } | undefined> {
  const kind = KIND[entry.type];
  if (!kind) return undefined;
  if (path.length === 0 && kind !== NodeKind.DIR)
    throw new RangeError(`Cannot use ${where}: the root is not a directory`);
  const node = nodeFromTarEntry(tree, entry, kind, own, where);
  const offset =
    kind === NodeKind.FILE && entry.size > 0 ? await spool.add(entry.body, entry.size) : 0;
  return { node, kind, offset };
}

/** Why a hard link's target cannot be linked (`isDir` undefined: it is not there), if it cannot. */
export function linkTargetError(
  where: string,
  entry: TarEntry,
  isDir: boolean | undefined,
): RangeError | undefined {
  if (isDir === undefined)
    return new RangeError(`Cannot link ${where}: ${entry.linkname} is not earlier in the archive`);
  if (isDir) return new RangeError(`Cannot link ${where}: ${entry.linkname} is a directory`);
  return undefined;
}

const ENCODER = new TextEncoder();

/**
 * Reads a tar stream into `tree` (overlaying what is there), spooling file
 * bodies into `spool`. Parent directories the archive does not list are
 * created (0755, root-owned). Hard links point at the earlier member's node.
 */
export async function addTarSource(
  tree: FsTree,
  source: AsyncIterable<Uint8Array>,
  label: string,
  spool: Spool,
  own: SourceOwnership,
  limit = 0,
): Promise<void> {
  const encoder = ENCODER;
  // File rows point at their offset in the spool; messages name the tar and the path.
  const origin = tree.addOrigin({ kind: "spool", path: spool.path, label });
  for await (const entry of readTar(source) as AsyncIterable<TarEntry>) {
    const path = splitPath(encoder.encode(entry.path));
    const where = `${label}:${entry.path}`;
    if (entry.type === "hardlink") {
      const target = tree.lookupPath(splitPath(encoder.encode(entry.linkname)));
      const error = linkTargetError(
        where,
        entry,
        target ? tree.kind[target] === NodeKind.DIR : undefined,
      );
      if (error) throw error;
      if (path.length === 0) continue;
      tree.placePath(path, target);
      if (entry.size > 0 && tree.kind[target] === NodeKind.FILE) {
        const offset = await spool.add(entry.body, entry.size);
        tree.setContent(target, entry.size, origin, tree.up[target] as number, offset);
        tree.setMaybeSparse(target);
      }
      continue;
    }
    const member = await tarMemberNode(tree, entry, path, where, spool, own);
    if (!member) continue;
    const { node, kind, offset } = member;
    tree.placePath(path, node);
    if (limit && tree.entryCount > limit) throw new TreeLimitError(limit);
    if (kind === NodeKind.FILE) {
      tree.setContent(node, entry.size, origin, tree.lastEntry, offset);
      tree.setMaybeSparse(node);
    }
  }
}
