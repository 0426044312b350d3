/**
 * A tar archive laid out on disk for the walk writer, so that it can be
 * listed one directory at a time like a directory source without holding
 * the archive's entries in memory: a shadow directory tree (a directory per
 * directory, a symlink per other name whose target is its object's id) and a
 * table of objects (fixed-size records; hard links share one). Members are applied in archive order with
 * the tree writer's rules ({@linkcode addTarSource}): a later member replaces
 * an earlier one, directories merge, missing parents are created. What a
 * shadow directory did to the directory of the same path in earlier sources
 * is kept in its mode: `THROUGH` (only named as a parent: it merges without
 * changing it), `MERGE` (a directory member: its metadata wins), `REPLACE`
 * (the path held another object first in this archive: what earlier sources
 * had there is dropped).
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { readTar, type TarEntry } from "@bigfile/blockdev";
import type { SourceOwnership } from "./_dir_source_file.ts";
import { linkTargetError, type Spool, tarMemberNode } from "./_tar_source_file.ts";
import { FsTree, NodeKind, splitPath, type TimeField } from "./_tree.ts";
import type { StoredXattr } from "./_xattrs.ts";

/** How a shadow directory acts on earlier sources' directory at its path. */
export const ShadowMode = { THROUGH: 0, MERGE: 1, REPLACE: 2 } as const;

/** Object 0: the directories mkfs creates for missing parents. */
const CREATED_DIR = 0;
/** Fields of an object record (numbers; the times take six). */
const F = {
  KIND: 0,
  CREATED: 1,
  PERM: 2,
  UID: 3,
  GID: 4,
  TIMES: 5,
  SIZE: 11,
  OFFSET: 12,
  MAJOR: 13,
  MINOR: 14,
  TARGET_AT: 15,
  TARGET_LENGTH: 16,
  NAMES: 17,
  XATTRS_AT: 18,
  XATTRS_LENGTH: 19,
} as const;
const FIELDS = 20;
const RECORD = FIELDS * 8;
const ENCODER = new TextEncoder();

/** One object of the archive, as its record holds it. */
export interface ShadowNode {
  kind: NodeKind;
  perm: number;
  uid: number;
  gid: number;
  /** atime, mtime, ctime: seconds and nanoseconds. */
  times: number[];
  size: number;
  /** File: its body's offset in the spool. */
  offset: number;
  major: number;
  minor: number;
  target: Uint8Array;
  /** Names it has had (more than 1: a hard link). */
  names: number;
  created: boolean;
  /** Extended attributes, in block order. */
  xattrs: StoredXattr[] | undefined;
}

/** A shadow directory's own record: its object, mode and name. */
export interface ShadowDir {
  id: number;
  mode: number;
  name: Uint8Array;
}

/** A child of a shadow directory. */
export type ShadowChild =
  | { dir: true; path: Buffer; id: number; mode: number; name: Uint8Array }
  | { dir: false; path: Buffer; id: number; name: Uint8Array };

/** The shadow name of `name`: a prefix keeps "m" free; long names are hashed (the record has the name). */
function shadowName(name: Uint8Array): Buffer {
  if (name.length <= 254) return Buffer.concat([Buffer.from("e"), name]);
  return Buffer.from(`h${createHash("sha256").update(name).digest("hex")}`);
}

/** A tar archive on disk: see the module. Remove `dir` when done. */
export class TarShadow {
  /** The shadow tree's root. */
  readonly root: Buffer;
  readonly spool: Spool;
  readonly label: string;
  readonly #table: number;
  readonly #targets: number;
  readonly #xattrs: number;
  #count = 0;
  #targetsEnd = 0;
  #xattrsEnd = 0;
  readonly #record = new Float64Array(FIELDS);
  readonly #bytes = new Uint8Array(this.#record.buffer);

  private constructor(dir: string, spool: Spool, label: string) {
    this.root = Buffer.from(join(dir, "tree"));
    this.spool = spool;
    this.label = label;
    mkdirSync(this.root);
    this.#table = openSync(join(dir, "objects"), "w+", 0o600);
    this.#targets = openSync(join(dir, "targets"), "w+", 0o600);
    this.#xattrs = openSync(join(dir, "xattrs"), "w+", 0o600);
    // Object 0: the created directory (root-owned, 0755; mkfs gives it its time).
    const r = this.#record;
    r.fill(0);
    r[F.KIND] = NodeKind.DIR;
    r[F.CREATED] = 1;
    r[F.PERM] = 0o755;
    r[F.NAMES] = 1;
    this.#store(this.#count++);
  }

  /** Reads a tar stream into a shadow in `dir` (which must exist, empty), bodies into `spool`. */
  static async build(
    source: AsyncIterable<Uint8Array>,
    label: string,
    spool: Spool,
    own: SourceOwnership,
    dir: string,
  ): Promise<TarShadow> {
    const shadow = new TarShadow(dir, spool, label);
    writeMeta(shadow.root, CREATED_DIR, ShadowMode.THROUGH, new Uint8Array(0));
    let scratch = new FsTree();
    for await (const entry of readTar(source) as AsyncIterable<TarEntry>) {
      if (scratch.nodeCount > 4096) scratch = new FsTree();
      await shadow.#apply(entry, own, scratch);
    }
    return shadow;
  }

  /** Releases the files (the caller removes the directory). */
  close(): void {
    closeSync(this.#table);
    closeSync(this.#targets);
    closeSync(this.#xattrs);
  }

  async #apply(entry: TarEntry, own: SourceOwnership, scratch: FsTree): Promise<void> {
    const parts = splitPath(ENCODER.encode(entry.path));
    const where = `${this.label}:${entry.path}`;
    if (entry.type === "hardlink") {
      const target = this.#find(splitPath(ENCODER.encode(entry.linkname)));
      const error = linkTargetError(where, entry, target?.dir);
      if (error) throw error;
      if (parts.length === 0) return;
      const id = (target as { id: number }).id;
      this.#placeFile(parts, id);
      const r = this.#record;
      this.#load(id);
      r[F.NAMES] = (r[F.NAMES] as number) + 1;
      if (entry.size > 0 && r[F.KIND] === NodeKind.FILE) {
        r[F.SIZE] = entry.size;
        r[F.OFFSET] = await this.spool.add(entry.body, entry.size);
      }
      this.#store(id);
      return;
    }
    const member = await tarMemberNode(scratch, entry, parts, where, this.spool, own);
    if (!member) return;
    const id = this.#add(scratch, member.node, entry.size, member.offset);
    if (member.kind === NodeKind.DIR) this.#placeDir(parts, id);
    else this.#placeFile(parts, id);
  }

  /** The shadow path of `parts`, creating missing parents as the tree writer's placePath does. */
  #parent(parts: readonly Uint8Array[]): Buffer {
    let at = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i] as Uint8Array;
      const next = Buffer.concat([at, Buffer.from("/"), shadowName(part)]);
      const st = lstatSync(next, { throwIfNoEntry: false });
      if (!st?.isDirectory()) {
        // Missing: a created directory that merges into what is there; a
        // non-directory in the way is replaced.
        if (st) unlinkSync(next);
        mkdirSync(next);
        writeMeta(next, CREATED_DIR, st ? ShadowMode.REPLACE : ShadowMode.THROUGH, part);
      }
      at = next;
    }
    return at;
  }

  #placeDir(parts: readonly Uint8Array[], id: number): void {
    if (parts.length === 0) {
      const meta = this.readDir(this.root);
      writeMeta(this.root, id, Math.max(meta.mode, ShadowMode.MERGE), meta.name, true);
      return;
    }
    const name = parts[parts.length - 1] as Uint8Array;
    const path = Buffer.concat([this.#parent(parts), Buffer.from("/"), shadowName(name)]);
    const st = lstatSync(path, { throwIfNoEntry: false });
    let mode: number = ShadowMode.MERGE;
    if (st?.isDirectory()) mode = Math.max(this.readDir(path).mode, ShadowMode.MERGE);
    else {
      if (st) {
        unlinkSync(path);
        mode = ShadowMode.REPLACE;
      }
      mkdirSync(path);
    }
    writeMeta(path, id, mode, name, st?.isDirectory());
  }

  #placeFile(parts: readonly Uint8Array[], id: number): void {
    const name = parts[parts.length - 1] as Uint8Array;
    const path = Buffer.concat([this.#parent(parts), Buffer.from("/"), shadowName(name)]);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st?.isDirectory()) rmSync(path, { recursive: true });
    else if (st) unlinkSync(path);
    symlinkSync(linkText(id, name), path);
  }

  /** The entry at `parts`: its object, and whether it is a directory. */
  #find(parts: readonly Uint8Array[]): { id: number; dir: boolean } | undefined {
    let at = this.root;
    for (const part of parts) at = Buffer.concat([at, Buffer.from("/"), shadowName(part)]);
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (!st) return undefined;
    if (st.isDirectory()) return { id: this.readDir(at).id, dir: true };
    return { id: readLink(at).id, dir: false };
  }

  /** Appends a record for scratch row `row` (a file: `size` bytes at `offset` of the spool); returns its id. */
  #add(scratch: FsTree, row: number, size: number, offset: number): number {
    const r = this.#record;
    const kind = scratch.kind[row] as NodeKind;
    r.fill(0);
    r[F.KIND] = kind;
    r[F.CREATED] = scratch.isCreated(row) ? 1 : 0;
    r[F.PERM] = scratch.perm[row] as number;
    r[F.UID] = scratch.uid[row] as number;
    r[F.GID] = scratch.gid[row] as number;
    for (let f = 0; f < 3; f++) {
      r[F.TIMES + f * 2] = scratch.timeSeconds(row, f as TimeField);
      r[F.TIMES + f * 2 + 1] = scratch.timeNanoseconds(row, f as TimeField);
    }
    if (kind === NodeKind.FILE) {
      r[F.SIZE] = size;
      r[F.OFFSET] = offset;
    }
    if (kind === NodeKind.CHAR || kind === NodeKind.BLOCK) {
      r[F.MAJOR] = scratch.major(row);
      r[F.MINOR] = scratch.minor(row);
    }
    if (kind === NodeKind.SYMLINK) {
      const target = scratch.target(row);
      r[F.TARGET_AT] = this.#targetsEnd;
      r[F.TARGET_LENGTH] = target.length;
      writeAll(this.#targets, target, this.#targetsEnd);
      this.#targetsEnd += target.length;
    }
    const xattrs = scratch.xattrs.get(row);
    if (xattrs) {
      const bytes = encodeXattrs(xattrs);
      r[F.XATTRS_AT] = this.#xattrsEnd;
      r[F.XATTRS_LENGTH] = bytes.length;
      writeAll(this.#xattrs, bytes, this.#xattrsEnd);
      this.#xattrsEnd += bytes.length;
    }
    r[F.NAMES] = 1;
    const id = this.#count++;
    this.#store(id);
    return id;
  }

  /** Reads record `id` into the scratch record. */
  #load(id: number): void {
    readSync(this.#table, this.#bytes, 0, RECORD, id * RECORD);
  }

  /** Writes the scratch record as record `id`. */
  #store(id: number): void {
    for (let done = 0; done < RECORD; )
      done += writeSync(this.#table, this.#bytes, done, RECORD - done, id * RECORD + done);
  }

  /** Object `id`. */
  read(id: number): ShadowNode {
    const r = this.#record;
    this.#load(id);
    const target = new Uint8Array(r[F.TARGET_LENGTH] as number);
    if (target.length) readSync(this.#targets, target, 0, target.length, r[F.TARGET_AT] as number);
    let xattrs: StoredXattr[] | undefined;
    if (r[F.XATTRS_LENGTH]) {
      const bytes = new Uint8Array(r[F.XATTRS_LENGTH] as number);
      readSync(this.#xattrs, bytes, 0, bytes.length, r[F.XATTRS_AT] as number);
      xattrs = decodeXattrs(bytes);
    }
    return {
      kind: r[F.KIND] as NodeKind,
      created: r[F.CREATED] === 1,
      perm: r[F.PERM] as number,
      uid: r[F.UID] as number,
      gid: r[F.GID] as number,
      times: Array.from(r.subarray(F.TIMES, F.TIMES + 6)),
      size: r[F.SIZE] as number,
      offset: r[F.OFFSET] as number,
      major: r[F.MAJOR] as number,
      minor: r[F.MINOR] as number,
      target,
      names: r[F.NAMES] as number,
      xattrs,
    };
  }

  /** The record of shadow directory `dir`. */
  readDir(dir: Buffer): ShadowDir {
    const link = readLink(Buffer.concat([dir, META]), dir);
    return { id: link.id, mode: link.mode, name: link.name };
  }

  /** The children of shadow directory `dir`. */
  children(dir: Buffer): ShadowChild[] {
    const out: ShadowChild[] = [];
    for (const entry of readdirSync(dir, { encoding: "buffer", withFileTypes: true })) {
      const name = entry.name;
      if (name.equals(META_NAME)) continue;
      const path = Buffer.concat([dir, Buffer.from("/"), name]);
      if (entry.isDirectory()) {
        const meta = this.readDir(path);
        out.push({ dir: true, path, id: meta.id, mode: meta.mode, name: meta.name });
      } else out.push({ dir: false, path, ...readLink(path) });
    }
    return out;
  }

  /** The names of shadow directory `dir`'s children (read only when hashed). */
  names(dir: Buffer): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const name of readdirSync(dir, { encoding: "buffer" })) {
      if (name.equals(META_NAME)) continue;
      // "e" + the name itself; otherwise a hash, and the name is in the entry.
      if (name[0] === 0x65) out.push(name.subarray(1));
      else out.push(this.#nameAt(Buffer.concat([dir, Buffer.from("/"), name])));
    }
    return out;
  }

  /** The name a hashed shadow entry stands for. */
  #nameAt(path: Buffer): Uint8Array {
    const st = lstatSync(path);
    return st.isDirectory() ? this.readDir(path).name : readLink(path).name;
  }
}

/** Writes all of `bytes` at `position` of file `fd`. */
function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; )
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/** Attributes as a record: per attribute its index, name length, value length (4 bytes), name, value. */
function encodeXattrs(xattrs: readonly StoredXattr[]): Uint8Array {
  let length = 0;
  for (const x of xattrs) length += 6 + x.name.length + x.value.length;
  const out = new Uint8Array(length);
  const v = new DataView(out.buffer);
  let at = 0;
  for (const x of xattrs) {
    out[at] = x.index;
    out[at + 1] = x.name.length;
    v.setUint32(at + 2, x.value.length, true);
    out.set(x.name, at + 6);
    out.set(x.value, at + 6 + x.name.length);
    at += 6 + x.name.length + x.value.length;
  }
  return out;
}

function decodeXattrs(bytes: Uint8Array): StoredXattr[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: StoredXattr[] = [];
  for (let at = 0; at < bytes.length; ) {
    const nameLength = bytes[at + 1] as number;
    const valueLength = v.getUint32(at + 2, true);
    const name = bytes.slice(at + 6, at + 6 + nameLength);
    const value = bytes.slice(at + 6 + nameLength, at + 6 + nameLength + valueLength);
    out.push({ index: bytes[at] as number, name, value });
    at += 6 + nameLength + valueLength;
  }
  return out;
}

/** Each shadow directory's own record: a name no entry has (they start with "e" or "h"). */
const META_NAME = Buffer.from("m");
const META = Buffer.from("/m");

/**
 * What a shadow entry's symlink says: the object's id, for a directory's own
 * record its mode, and the name in hex when the shadow name is a hash of it.
 */
function linkText(id: number, name: Uint8Array, mode?: number): string {
  const parts = [String(id)];
  if (mode !== undefined) parts.push(String(mode));
  if (name.length > 254) parts.push(Buffer.from(name).toString("hex"));
  return parts.join("/");
}

/** Reads a shadow symlink: `named` is the shadow path whose name it is (itself, or a directory). */
function readLink(
  path: Buffer,
  named: Buffer = path,
): { id: number; mode: number; name: Uint8Array } {
  const parts = readlinkSync(path, "utf8").split("/");
  const dir = named !== path;
  const id = Number(parts[0]);
  const mode = dir ? Number(parts[1]) : 0;
  const hex = parts[dir ? 2 : 1];
  let name: Uint8Array;
  if (hex !== undefined) name = Buffer.from(hex, "hex");
  else {
    const base = named.subarray(named.lastIndexOf(0x2f) + 1);
    name = base[0] === 0x65 ? base.subarray(1) : new Uint8Array(0);
  }
  return { id, mode, name };
}

/** Writes directory `dir`'s own record (`replace`: one is there). */
function writeMeta(dir: Buffer, id: number, mode: number, name: Uint8Array, replace = false): void {
  const path = Buffer.concat([dir, META]);
  if (replace) unlinkSync(path);
  symlinkSync(linkText(id, name, mode), path);
}
