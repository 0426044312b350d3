import { type BlockDevice, zeros } from "@bigfile/blockdev";
import { BlockCache } from "./_block_cache.ts";
import { type BlockMapContext, type BlockRun, blockRuns } from "./_block_map.ts";
import { parseDirBlock, type ReaderDirent } from "./_decode_dirent.ts";
import { BG_INODE_UNINIT, decodeReaderGroup, type ReaderGroup } from "./_decode_group.ts";
import {
  decodeReaderInode,
  ENCRYPT_FL,
  EXTENTS_FL,
  INLINE_DATA_FL,
  type ReaderInode,
  type ReaderTime,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
} from "./_decode_inode.ts";
import { decodeReaderJournal, type ReaderJournalSuperblock } from "./_decode_journal.ts";
import {
  decodeReaderSuperblock,
  groupCount,
  type ReaderSuperblock,
  SUPERBLOCK_OFFSET,
} from "./_decode_superblock.ts";
import {
  COMPAT_HAS_JOURNAL,
  INCOMPAT_FILETYPE,
  INCOMPAT_RECOVER,
  RO_COMPAT_HUGE_FILE,
} from "./_features.ts";
import { type JournalOverlay, JournalOverlayDevice, replayJournal } from "./_journal_replay.ts";
import { descriptorBlock } from "./_layout.ts";
import { type ReaderXattr, readXattrs } from "./_xattrs.ts";
import { ExtCorruptionError, ExtPathError, ExtUnsupportedError } from "./errors.ts";

export type { BlockRun } from "./_block_map.ts";
export type { ReaderDirent } from "./_decode_dirent.ts";
export type { ReaderGroup } from "./_decode_group.ts";
export type { ReaderInode, ReaderTime } from "./_decode_inode.ts";
export type { ReaderJournalSuperblock } from "./_decode_journal.ts";
export type { ReaderSuperblock } from "./_decode_superblock.ts";
export type { ReaderXattr } from "./_xattrs.ts";

/** The root directory's inode number. */
export const ROOT_INO = 2;
const MAX_SYMLINK_HOPS = 40;
const MAX_DEPTH = 1024;
const CHUNK = 1 << 20;
const READ_CHUNK = 4 << 20;

/** A file's type, as `ls` would name it. */
export type ReaderFileType =
  | "file"
  | "directory"
  | "symlink"
  | "char-device"
  | "block-device"
  | "fifo"
  | "socket"
  | "unknown";

/** What {@linkcode FilesystemReader.stat} tells about a file. */
export interface ReaderStat {
  ino: number;
  type: ReaderFileType;
  /** Full mode: type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  links: number;
  /** Allocated space in 512-byte units. */
  blocks512: number;
  /** Inode flags (EXT4_*_FL). */
  flags: number;
  atime: ReaderTime;
  mtime: ReaderTime;
  ctime: ReaderTime;
  crtime?: ReaderTime;
  /** Device numbers of a character or block device. */
  rdev?: { major: number; minor: number };
  generation: number;
}

/** One entry of a directory listing. */
export interface ReaderDirEntry {
  name: string;
  ino: number;
  /** Type from the entry (when the filesystem records it) or from the inode. */
  type: ReaderFileType;
  /** Whether `name` is valid UTF-8 without '/' or NUL (safe to create). */
  nameValid: boolean;
}

/** One file met by {@linkcode FilesystemReader.walk}. */
export interface ReaderWalkEntry {
  /** Absolute path inside the filesystem ("/" for the root). */
  path: string;
  /** Path relative to the walk's start ("" for the start itself). */
  relative: string;
  ino: number;
  stat: ReaderStat;
  /** The entry's name bytes are valid (see {@linkcode ReaderDirEntry.nameValid}). */
  nameValid: boolean;
  depth: number;
}

/** Options for {@linkcode FilesystemReader.walk}. */
export interface WalkOptions {
  /**
   * Called for a subtree that cannot be read; the walk goes on with the
   * rest. Without it the first error is thrown.
   */
  onError?: (path: string, error: Error) => void;
}

/** The state of the filesystem's journal. */
export interface ReaderJournalStatus {
  inode: number;
  /** The superblock says recovery is needed, or the journal holds transactions. */
  needsRecovery: boolean;
  superblock?: ReaderJournalSuperblock;
  /** Why the journal could not be read or replayed, when it could not. */
  problem?: string;
  /** Transactions replayed in memory (see {@linkcode ReaderOptions.replayJournal}). */
  replayed?: number;
}

/** Options for {@linkcode FilesystemReader.open}. */
export interface ReaderOptions {
  /** Metadata blocks kept in memory. @default 1024 */
  cacheBlocks?: number;
  /**
   * When the journal holds committed transactions (the filesystem was not
   * cleanly unmounted), read the filesystem as recovery would leave it,
   * without writing anything. @default true
   */
  replayJournal?: boolean;
  /**
   * Open a filesystem that uses inline_data (data kept in the inode) for
   * inspection, as `check` does: such files and directories are refused one
   * by one with {@linkcode ExtUnsupportedError} instead of the whole image.
   * @default false
   */
  allowInlineData?: boolean;
}

/** Options for {@linkcode FilesystemReader.dirEntries}. */
export interface DirEntriesOptions {
  /**
   * Called for each fault (a damaged block, a bad block map); the listing
   * goes on with what can be read. Without it the first fault throws.
   */
  onFault?: (error: ExtCorruptionError) => void;
}

/** Where a file keeps its data, from {@linkcode FilesystemReader.dataMap}. */
export interface ReaderDataMap {
  /** Byte ranges of the file that hold stored data, in order; the rest reads as zeros. */
  ranges: { offset: number; length: number }[];
  /** Bytes in `ranges`. */
  stored: number;
  /** The file's size. */
  size: number;
}

/** Options for {@linkcode FilesystemReader.readFile}. */
export interface ReadFileOptions {
  /** Refuse files larger than this. @default 268435456 (256 MiB) */
  maxBytes?: number;
}

const TYPE_OF_MODE: Record<number, ReaderFileType> = {
  [S_IFREG]: "file",
  [S_IFDIR]: "directory",
  [S_IFLNK]: "symlink",
  [S_IFCHR]: "char-device",
  [S_IFBLK]: "block-device",
  [S_IFIFO]: "fifo",
  [S_IFSOCK]: "socket",
};
const TYPE_OF_DIRENT: ReaderFileType[] = [
  "unknown",
  "file",
  "directory",
  "char-device",
  "block-device",
  "fifo",
  "socket",
  "symlink",
];

/** The type of a mode. */
export function fileTypeOfMode(mode: number): ReaderFileType {
  return TYPE_OF_MODE[mode & S_IFMT] ?? "unknown";
}

function splitPath(path: string): string[] {
  return path.split("/").filter((part) => part !== "" && part !== ".");
}

function joinPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/**
 * A read-only view of an ext2, ext3 or ext4 filesystem on a
 * {@linkcode BlockDevice}. Every structure is checked as it is read: a fault
 * raises {@linkcode ExtCorruptionError} with the byte offset of what was
 * wrong, never a hang or an unbounded allocation.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { FileDevice, writeToFile } from "@bigfile/blockdev/node";
 * import { FilesystemReader } from "@bigfile/ext3fs";
 * import { mkfs } from "@bigfile/ext3fs/node";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * await writeToFile((await mkfs(["rootfs"], { size: 8 << 20, seed: "docs" })).chunks(), "root.ext3");
 * const device = await FileDevice.open("root.ext3", { readOnly: true });
 * const fs = await FilesystemReader.open(device);
 * assert.deepEqual((await fs.readdir("/boot")).map((e) => e.name).filter((n) => !n.startsWith(".")), ["vmlinuz"]);
 * let text = "";
 * for await (const chunk of fs.createReadStream("/boot/vmlinuz")) text += new TextDecoder().decode(chunk);
 * assert.equal(text, "not really a kernel\n");
 * await device.close();
 * ```
 */
export class FilesystemReader {
  /** The device the filesystem lives on. */
  readonly device: BlockDevice;
  /** The primary superblock. */
  readonly superblock: ReaderSuperblock;
  /** Every block group's descriptor. */
  readonly groups: readonly ReaderGroup[];
  /** The journal's state, when the filesystem has an internal one. */
  journal: ReaderJournalStatus | undefined;
  readonly #cache: BlockCache;
  readonly #ctx: BlockMapContext;

  private constructor(
    device: BlockDevice,
    sb: ReaderSuperblock,
    groups: ReaderGroup[],
    cacheBlocks: number,
  ) {
    this.device = device;
    this.superblock = sb;
    this.groups = groups;
    this.#cache = new BlockCache(cacheBlocks);
    this.#ctx = {
      blockSize: sb.blockSize,
      blocksCount: sb.blocksCount,
      firstDataBlock: sb.firstDataBlock,
      readBlock: (block) => this.readBlock(block),
    };
  }

  /** Reads the superblock and group descriptors of the filesystem on `device`. */
  static async open(device: BlockDevice, options: ReaderOptions = {}): Promise<FilesystemReader> {
    if (device.size < SUPERBLOCK_OFFSET + 1024) {
      throw new ExtCorruptionError(
        `Cannot open the filesystem: the image holds ${device.size} bytes, too few for a superblock`,
        0,
      );
    }
    const allowInline = options.allowInlineData ?? false;
    const sb = decodeReaderSuperblock(
      await device.read(SUPERBLOCK_OFFSET, 1024),
      device.size,
      SUPERBLOCK_OFFSET,
      allowInline,
    );
    const groups = await readGroups(device, sb);
    const reader = new FilesystemReader(device, sb, groups, options.cacheBlocks ?? 1024);
    await reader.#readJournal();
    const journal = reader.journal;
    if (
      options.replayJournal === false ||
      !journal?.needsRecovery ||
      !journal.superblock ||
      journal.superblock.start === 0
    ) {
      return reader;
    }
    // Replay in memory: read the filesystem as it will be after recovery.
    try {
      const overlay = await reader.#scanJournal(journal.superblock);
      journal.replayed = overlay.transactions;
      if (overlay.blocks.size === 0) return reader;
      const view = new JournalOverlayDevice(device, overlay, sb.blockSize);
      const sb2 = decodeReaderSuperblock(
        await view.read(SUPERBLOCK_OFFSET, 1024),
        view.size,
        SUPERBLOCK_OFFSET,
        allowInline,
      );
      const replayed = new FilesystemReader(
        view,
        sb2,
        await readGroups(view, sb2),
        options.cacheBlocks ?? 1024,
      );
      replayed.journal = journal;
      return replayed;
    } catch (error) {
      if (!(error instanceof ExtCorruptionError) && !(error instanceof ExtUnsupportedError))
        throw error;
      journal.problem = `the journal cannot be replayed: ${error.message}`;
      return reader;
    }
  }

  async #scanJournal(jsb: ReaderJournalSuperblock): Promise<JournalOverlay> {
    const inode = await this.inode(this.superblock.journalInum);
    if (jsb.maxLen * this.blockSize > inode.size) {
      throw new ExtCorruptionError(
        `the journal claims ${jsb.maxLen} blocks but its inode holds ${inode.size} bytes`,
        inode.offset + 4,
      );
    }
    const runs: BlockRun[] = [];
    for await (const run of this.runs(inode, jsb.maxLen)) runs.push(run);
    const base = runs[0] ? runs[0].physical * this.blockSize : 0;
    return replayJournal(
      jsb,
      runs,
      this.blockSize,
      (block) => this.readBlock(block),
      this.superblock.blocksCount,
      () => base,
    );
  }

  /** The filesystem's block size in bytes. */
  get blockSize(): number {
    return this.superblock.blockSize;
  }

  /** Whether the directory entries carry file types. */
  get hasFileType(): boolean {
    return (this.superblock.featureIncompat & INCOMPAT_FILETYPE) !== 0;
  }

  /** Reads one metadata block (cached); refuses block numbers outside the filesystem. */
  async readBlock(block: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(block) || block < 0 || block >= this.superblock.blocksCount) {
      throw new ExtCorruptionError(
        `Cannot read block ${block}: the filesystem has ${this.superblock.blocksCount} blocks`,
        Math.max(0, Math.min(block, this.superblock.blocksCount)) * this.blockSize,
      );
    }
    const hit = this.#cache.get(block);
    if (hit) return hit;
    const bytes = await this.device.read(block * this.blockSize, this.blockSize);
    this.#cache.set(block, bytes);
    return bytes;
  }

  /** Reads and decodes inode `ino`. */
  async inode(ino: number): Promise<ReaderInode> {
    const sb = this.superblock;
    if (!Number.isSafeInteger(ino) || ino < 1 || ino > sb.inodesCount) {
      throw new ExtCorruptionError(
        `Cannot read inode ${ino}: the filesystem has ${sb.inodesCount} inodes`,
        SUPERBLOCK_OFFSET,
      );
    }
    const group = Math.floor((ino - 1) / sb.inodesPerGroup);
    const index = (ino - 1) % sb.inodesPerGroup;
    const desc = this.groups[group] as ReaderGroup;
    const tableBlocks = Math.ceil((sb.inodesPerGroup * sb.inodeSize) / sb.blockSize);
    if (
      desc.inodeTable < sb.firstDataBlock ||
      desc.inodeTable + tableBlocks > sb.blocksCount ||
      desc.inodeTable === 0
    ) {
      throw new ExtCorruptionError(
        `Cannot read inode ${ino}: group ${group}'s inode table at block ${desc.inodeTable} lies outside the filesystem`,
        desc.offset + 8,
      );
    }
    const byte = index * sb.inodeSize;
    const block = desc.inodeTable + Math.floor(byte / sb.blockSize);
    const within = byte % sb.blockSize;
    const offset = block * sb.blockSize + within;
    if (desc.flags & BG_INODE_UNINIT && this.#hasGroupChecksums()) {
      return decodeReaderInode(new Uint8Array(sb.inodeSize), ino, offset, sb.blockSize, false);
    }
    const bytes = (await this.readBlock(block)).subarray(within, within + sb.inodeSize);
    return decodeReaderInode(
      bytes,
      ino,
      offset,
      sb.blockSize,
      (sb.featureRoCompat & RO_COMPAT_HUGE_FILE) !== 0,
    );
  }

  #hasGroupChecksums(): boolean {
    return (this.superblock.featureRoCompat & (0x10 | 0x400)) !== 0;
  }

  /** The runs of blocks an inode maps, up to file block `limit` (default: its size). */
  runs(
    inode: ReaderInode,
    limit?: number,
    onMetaBlock?: (block: number, ino: number) => void,
    onIssue?: (message: string, offset: number) => void,
  ): AsyncGenerator<BlockRun> {
    this.#assertMappable(inode);
    const max = limit ?? Math.ceil(inode.size / this.blockSize);
    const ctx: BlockMapContext = { ...this.#ctx };
    if (onMetaBlock) ctx.onMetaBlock = onMetaBlock;
    if (onIssue) ctx.onIssue = onIssue;
    return blockRuns(ctx, inode, max);
  }

  #assertMappable(inode: ReaderInode): void {
    if (inode.flags & INLINE_DATA_FL) {
      throw new ExtUnsupportedError(
        `Cannot read inode ${inode.ino}: it keeps its data inline (inline_data)`,
        inode.offset + 32,
      );
    }
    if (inode.flags & ENCRYPT_FL) {
      throw new ExtUnsupportedError(
        `Cannot read inode ${inode.ino}: it is encrypted`,
        inode.offset + 32,
      );
    }
  }

  /**
   * Every entry of directory inode `ino`, including "." and "..", in on-disk
   * order. Without `onFault` the first fault throws; with it, a damaged block
   * is reported and skipped, a damaged block map ends the listing with what
   * was read before it, and the entries found are returned.
   */
  async dirEntries(
    ino: number | ReaderInode,
    options: DirEntriesOptions = {},
  ): Promise<ReaderDirent[]> {
    const inode = typeof ino === "number" ? await this.inode(ino) : ino;
    if ((inode.mode & S_IFMT) !== S_IFDIR) {
      throw new ExtCorruptionError(
        `Cannot list inode ${inode.ino}: it is not a directory`,
        inode.offset,
      );
    }
    const bs = this.blockSize;
    if (inode.size > this.device.size) {
      throw new ExtCorruptionError(
        `Cannot list directory inode ${inode.ino}: its size ${inode.size} exceeds the image`,
        inode.offset + 4,
      );
    }
    const onFault = options.onFault;
    const fault = (error: ExtCorruptionError): void => {
      if (!onFault) throw error;
      onFault(error);
    };
    const out: ReaderDirent[] = [];
    const seen = new Set<number>();
    try {
      for await (const run of this.runs(inode)) {
        for (let i = 0; i < run.length; i++) {
          if (run.uninit) continue;
          const block = run.physical + i;
          if (seen.has(block)) {
            fault(
              new ExtCorruptionError(
                `Cannot list directory inode ${inode.ino}: block ${block} appears twice in it`,
                inode.offset + 40,
              ),
            );
            continue;
          }
          seen.add(block);
          const parsed = parseDirBlock(await this.readBlock(block), block * bs, this.hasFileType);
          out.push(...parsed.entries);
          if (parsed.fault) {
            fault(
              new ExtCorruptionError(
                `Cannot list directory inode ${inode.ino}: ${parsed.fault.message}`,
                parsed.fault.offset,
              ),
            );
          }
        }
      }
    } catch (error) {
      if (!onFault || !(error instanceof ExtCorruptionError)) throw error;
      onFault(error);
    }
    return out;
  }

  /** Finds `name` in directory inode `dir`. */
  async lookupIn(dir: number, name: string): Promise<number | undefined> {
    for (const entry of await this.dirEntries(dir)) if (entry.name === name) return entry.ino;
    return undefined;
  }

  /** Resolves `path` (absolute or relative to the root) to an inode number. */
  async lookup(path: string, options: { follow?: boolean } = {}): Promise<number> {
    const follow = options.follow ?? true;
    const queue = splitPath(path);
    let current = ROOT_INO;
    let hops = 0;
    while (queue.length > 0) {
      const name = queue.shift() as string;
      const dir = await this.inode(current);
      if ((dir.mode & S_IFMT) !== S_IFDIR) throw new ExtPathError(path, "not-a-directory");
      const next = await this.lookupIn(current, name);
      if (next === undefined) throw new ExtPathError(path, "not-found");
      const child = await this.inode(next);
      if ((child.mode & S_IFMT) === S_IFLNK && (queue.length > 0 || follow)) {
        if (++hops > MAX_SYMLINK_HOPS) throw new ExtPathError(path, "symlink-loop");
        const target = await this.#readlinkInode(child);
        if (target.startsWith("/")) current = ROOT_INO;
        queue.unshift(...splitPath(target));
        continue;
      }
      current = next;
    }
    return current;
  }

  /** The entries of the directory at `path` (following symlinks), without "." and "..". */
  async readdir(path: string, options: DirEntriesOptions = {}): Promise<ReaderDirEntry[]> {
    const ino = await this.lookup(path);
    const inode = await this.inode(ino);
    if ((inode.mode & S_IFMT) !== S_IFDIR) throw new ExtPathError(path, "not-a-directory");
    return this.#listInode(inode, options);
  }

  async #listInode(inode: ReaderInode, options: DirEntriesOptions = {}): Promise<ReaderDirEntry[]> {
    const out: ReaderDirEntry[] = [];
    for (const entry of await this.dirEntries(inode, options)) {
      if (entry.name === "." || entry.name === "..") continue;
      let type = this.hasFileType ? (TYPE_OF_DIRENT[entry.fileType] ?? "unknown") : "unknown";
      if (type === "unknown") {
        try {
          type = fileTypeOfMode((await this.inode(entry.ino)).mode);
        } catch (error) {
          // The entry is still listed; reading it will name the fault.
          if (!options.onFault || !(error instanceof ExtCorruptionError)) throw error;
        }
      }
      out.push({ name: entry.name, ino: entry.ino, type, nameValid: entry.nameValid });
    }
    return out;
  }

  /** Facts about inode `ino`. */
  async statInode(ino: number | ReaderInode): Promise<ReaderStat> {
    const inode = typeof ino === "number" ? await this.inode(ino) : ino;
    const type = fileTypeOfMode(inode.mode);
    const stat: ReaderStat = {
      ino: inode.ino,
      type,
      mode: inode.mode,
      uid: inode.uid,
      gid: inode.gid,
      size: inode.size,
      links: inode.links,
      blocks512: inode.blocks512,
      flags: inode.flags,
      atime: inode.atime,
      mtime: inode.mtime,
      ctime: inode.ctime,
      generation: inode.generation,
    };
    if (inode.crtime) stat.crtime = inode.crtime;
    if (type === "char-device" || type === "block-device") stat.rdev = deviceNumbers(inode);
    return stat;
  }

  /** Facts about the file at `path`, following a final symlink. */
  async stat(path: string): Promise<ReaderStat> {
    return this.statInode(await this.lookup(path, { follow: true }));
  }

  /** Facts about the file at `path`; a final symlink is described, not followed. */
  async lstat(path: string): Promise<ReaderStat> {
    return this.statInode(await this.lookup(path, { follow: false }));
  }

  /**
   * The extended attributes of inode `ino` (user., trusted., security.,
   * system. names; POSIX ACLs in the kernel's xattr form).
   */
  async xattrs(ino: number | ReaderInode): Promise<ReaderXattr[]> {
    const inode = typeof ino === "number" ? await this.inode(ino) : ino;
    const bs = this.blockSize;
    const block = Math.floor(inode.offset / bs);
    const within = inode.offset % bs;
    const raw = (await this.readBlock(block)).subarray(within, within + this.superblock.inodeSize);
    return readXattrs(inode, raw, bs, (b) => this.readBlock(b), this.superblock.blocksCount);
  }

  /** The target of the symlink at `path`. */
  async readlink(path: string): Promise<string> {
    const inode = await this.inode(await this.lookup(path, { follow: false }));
    if ((inode.mode & S_IFMT) !== S_IFLNK) throw new ExtPathError(path, "not-a-symlink");
    return this.#readlinkInode(inode);
  }

  /** The target of symlink inode `ino`. */
  async readlinkInode(ino: number | ReaderInode): Promise<string> {
    return this.#readlinkInode(typeof ino === "number" ? await this.inode(ino) : ino);
  }

  async #readlinkInode(inode: ReaderInode): Promise<string> {
    if (inode.size > 4096 || inode.size === 0) {
      throw new ExtCorruptionError(
        `Cannot read symlink inode ${inode.ino}: its length ${inode.size} is not 1-4096`,
        inode.offset + 4,
      );
    }
    const eaBlocks = inode.fileAcl ? this.blockSize / 512 : 0;
    let bytes: Uint8Array;
    if (
      inode.size < 60 &&
      !(inode.flags & (EXTENTS_FL | INLINE_DATA_FL)) &&
      inode.blocks512 - eaBlocks <= 0
    ) {
      bytes = inode.block.subarray(0, inode.size);
    } else {
      const parts: Uint8Array[] = [];
      for await (const chunk of this.fileChunks(inode)) parts.push(chunk);
      bytes = new Uint8Array(inode.size);
      let at = 0;
      for (const part of parts) {
        bytes.set(part.subarray(0, Math.min(part.length, bytes.length - at)), at);
        at += part.length;
      }
    }
    return new TextDecoder().decode(bytes);
  }

  /**
   * The contents of inode `ino` as chunks of at most 4 MiB, holes as views of
   * one shared zero buffer (do not modify the chunks).
   */
  async *fileChunks(ino: number | ReaderInode): AsyncGenerator<Uint8Array> {
    const inode = typeof ino === "number" ? await this.inode(ino) : ino;
    this.#assertSize(inode);
    // One read ahead: the next piece is being read while the caller writes this one.
    let pending: Promise<Uint8Array> | undefined;
    for await (const piece of this.#pieces(inode, inode.size)) {
      if (typeof piece === "number") {
        // A hole: zeros from the shared buffer, 1 MiB at a time.
        if (pending) yield await pending;
        pending = undefined;
        for (let left = piece; left > 0; left -= CHUNK) yield zeros(Math.min(CHUNK, left));
        continue;
      }
      const next = this.device.read(piece[0], piece[1]);
      next.catch(() => {});
      if (pending) yield await pending;
      pending = next;
    }
    if (pending) yield await pending;
  }

  /**
   * Only the stored data of inode `ino`, with file offsets: holes and
   * unwritten extents are skipped, so a sparse file costs what it stores,
   * whatever its size. Write each piece at `offset`, then set the size.
   */
  async *dataChunks(
    ino: number | ReaderInode,
  ): AsyncGenerator<{ offset: number; bytes: Uint8Array }> {
    const inode = typeof ino === "number" ? await this.inode(ino) : ino;
    this.#assertSize(inode);
    let position = 0;
    for await (const piece of this.#pieces(inode, inode.size)) {
      if (typeof piece === "number") {
        position += piece;
        continue;
      }
      yield { offset: position, bytes: await this.device.read(piece[0], piece[1]) };
      position += piece[1];
    }
  }

  /**
   * Where the data of inode `ino` lives: the byte ranges that hold stored
   * data (holes and unwritten extents are left out) and their total. A size
   * the block map cannot address, and a map that stores more bytes than the
   * whole filesystem holds (blocks mapped again and again), are damage and
   * raise {@linkcode ExtCorruptionError}: no file costs more than the image.
   */
  async dataMap(ino: number | ReaderInode): Promise<ReaderDataMap> {
    const inode = typeof ino === "number" ? await this.inode(ino) : ino;
    this.#assertSize(inode);
    const bs = this.blockSize;
    const capacity = this.superblock.blocksCount * bs;
    const ranges: { offset: number; length: number }[] = [];
    let stored = 0;
    for await (const run of this.runs(inode)) {
      if (run.uninit) continue;
      const start = run.logical * bs;
      if (start >= inode.size) break;
      const length = Math.min(run.length * bs, inode.size - start);
      stored += length;
      if (stored > capacity) {
        throw new ExtCorruptionError(
          `Cannot read inode ${inode.ino}: its block map stores more than the ${capacity} bytes of the whole filesystem (blocks mapped more than once)`,
          inode.offset + 40,
        );
      }
      const last = ranges[ranges.length - 1];
      if (last && last.offset + last.length === start) last.length += length;
      else ranges.push({ offset: start, length });
    }
    return { ranges, stored, size: inode.size };
  }

  #assertSize(inode: ReaderInode): void {
    const bs = this.blockSize;
    const apb = bs / 4;
    const maxSize =
      (inode.flags & EXTENTS_FL ? 2 ** 32 : 12 + apb + apb * apb + apb * apb * apb) * bs;
    if (inode.size > maxSize) {
      throw new ExtCorruptionError(
        `Cannot read inode ${inode.ino}: its size ${inode.size} exceeds what its block map can address (${maxSize})`,
        inode.offset + 4,
      );
    }
  }

  /** What to yield, in order: a number of zero bytes, or [offset, length] to read. */
  async *#pieces(inode: ReaderInode, size: number): AsyncGenerator<number | [number, number]> {
    const bs = this.blockSize;
    let position = 0;
    const maxBlocks = Math.max(1, Math.floor(READ_CHUNK / bs));
    for await (const run of this.runs(inode)) {
      const runStart = run.logical * bs;
      if (runStart >= size) break;
      if (position < runStart) {
        yield runStart - position;
        position = runStart;
      }
      for (let i = 0; i < run.length; i += maxBlocks) {
        const count = Math.min(maxBlocks, run.length - i);
        const want = Math.min(count * bs, size - position);
        if (want <= 0) break;
        yield run.uninit ? want : [(run.physical + i) * bs, want];
        position += want;
      }
    }
    if (position < size) yield size - position;
  }

  /** The contents of the file at `path` as a Web stream (bounded memory). */
  createReadStream(path: string): ReadableStream<Uint8Array> {
    let iterator: AsyncGenerator<Uint8Array> | undefined;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (!iterator) {
          const inode = await this.inode(await this.lookup(path));
          if ((inode.mode & S_IFMT) === S_IFDIR) throw new ExtPathError(path, "is-a-directory");
          iterator = this.fileChunks(inode);
        }
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: async () => {
        await iterator?.return(undefined);
      },
    });
  }

  /** The whole contents of the file at `path`, following symlinks. */
  async readFile(path: string, options: ReadFileOptions = {}): Promise<Uint8Array> {
    const inode = await this.inode(await this.lookup(path));
    if ((inode.mode & S_IFMT) === S_IFDIR) throw new ExtPathError(path, "is-a-directory");
    const max = options.maxBytes ?? 256 * 1024 * 1024;
    if (inode.size > max) {
      throw new RangeError(
        `Cannot read '${path}' into memory: it holds ${inode.size} bytes, over the ${max}-byte limit; stream it instead`,
      );
    }
    const out = new Uint8Array(inode.size);
    let at = 0;
    for await (const chunk of this.fileChunks(inode)) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  /**
   * Every file under `path` (the start first), depth first. Directories are
   * entered once: a directory met twice (a loop) is an error for that path.
   */
  async *walk(path = "/", options: WalkOptions = {}): AsyncGenerator<ReaderWalkEntry> {
    const startIno = await this.lookup(path);
    const start = splitPath(path);
    const startPath = start.length === 0 ? "/" : `/${start.join("/")}`;
    const visited = new Set<number>();
    type Pending = {
      path: string;
      relative: string;
      ino: number;
      depth: number;
      nameValid: boolean;
    };
    const stack: Pending[] = [
      { path: startPath, relative: "", ino: startIno, depth: 0, nameValid: true },
    ];
    const fail = (where: string, error: unknown): void => {
      if (!options.onError || !(error instanceof Error)) throw error;
      options.onError(where, error);
    };
    while (stack.length > 0) {
      const item = stack.pop() as Pending;
      let stat: ReaderStat;
      let inode: ReaderInode;
      try {
        inode = await this.inode(item.ino);
        stat = await this.statInode(inode);
      } catch (error) {
        fail(item.path, error);
        continue;
      }
      if (stat.type === "directory") {
        if (visited.has(item.ino)) {
          fail(
            item.path,
            new ExtCorruptionError(
              `Cannot enter '${item.path}': directory inode ${item.ino} was already met (a loop)`,
              inode.offset,
            ),
          );
          continue;
        }
        visited.add(item.ino);
      }
      yield {
        path: item.path,
        relative: item.relative,
        ino: item.ino,
        stat,
        nameValid: item.nameValid,
        depth: item.depth,
      };
      if (stat.type !== "directory") continue;
      if (item.depth >= MAX_DEPTH) {
        fail(
          item.path,
          new ExtCorruptionError(
            `Cannot enter '${item.path}': deeper than ${MAX_DEPTH} levels`,
            inode.offset,
          ),
        );
        continue;
      }
      let children: ReaderDirEntry[];
      try {
        // A damaged block is reported; the entries of the other blocks are still walked.
        children = await this.#listInode(
          inode,
          options.onError ? { onFault: (error) => fail(item.path, error) } : {},
        );
      } catch (error) {
        fail(item.path, error);
        continue;
      }
      for (let i = children.length - 1; i >= 0; i--) {
        const child = children[i] as ReaderDirEntry;
        stack.push({
          path: joinPath(item.path, child.name),
          relative: item.relative === "" ? child.name : `${item.relative}/${child.name}`,
          ino: child.ino,
          depth: item.depth + 1,
          nameValid: child.nameValid,
        });
      }
    }
  }

  /** Releases nothing but the cache; the caller closes the device it opened. */
  close(): void {}

  async #readJournal(): Promise<void> {
    const sb = this.superblock;
    if (!(sb.featureCompat & COMPAT_HAS_JOURNAL)) return;
    const status: ReaderJournalStatus = {
      inode: sb.journalInum,
      needsRecovery: (sb.featureIncompat & INCOMPAT_RECOVER) !== 0,
    };
    this.journal = status;
    if (sb.journalInum === 0) {
      status.problem = "the journal is on another device";
      return;
    }
    try {
      const inode = await this.inode(sb.journalInum);
      const first = await this.runs(inode, 1).next();
      if (first.done || first.value.logical !== 0) {
        status.problem = "the journal's first block is not mapped";
        return;
      }
      const bytes = await this.device.read(
        first.value.physical * this.blockSize,
        Math.min(this.blockSize, 1024),
      );
      const jsb = decodeReaderJournal(bytes);
      if (!jsb) {
        status.problem = "the journal superblock has no JBD2 magic number";
        return;
      }
      status.superblock = jsb;
      if (jsb.start !== 0) status.needsRecovery = true;
    } catch (error) {
      status.problem = (error as Error).message;
    }
  }
}

/** The major and minor numbers of a device inode (old and new encodings). */
export function deviceNumbers(inode: ReaderInode): { major: number; minor: number } {
  const v = new DataView(inode.block.buffer, inode.block.byteOffset, 60);
  const old = v.getUint32(0, true);
  if (old !== 0) return { major: (old >>> 8) & 0xff, minor: old & 0xff };
  const nw = v.getUint32(4, true);
  return { major: (nw & 0xfff00) >>> 8, minor: (nw & 0xff) | ((nw >>> 12) & 0xfff00) };
}

async function readGroups(device: BlockDevice, sb: ReaderSuperblock): Promise<ReaderGroup[]> {
  const count = groupCount(sb);
  const perBlock = sb.blockSize / sb.descSize;
  const groups: ReaderGroup[] = [];
  let cachedBlock = -1;
  let bytes: Uint8Array = new Uint8Array(0);
  for (let g = 0; g < count; g++) {
    const block = descriptorBlock(sb, g);
    if (block >= sb.blocksCount) {
      throw new ExtCorruptionError(
        `Cannot open the filesystem: the descriptor of group ${g} would be at block ${block}, past the end`,
        SUPERBLOCK_OFFSET + 4,
      );
    }
    if (block !== cachedBlock) {
      bytes = await device.read(block * sb.blockSize, sb.blockSize);
      cachedBlock = block;
    }
    const at = (g % perBlock) * sb.descSize;
    groups.push(decodeReaderGroup(bytes, at, sb, block * sb.blockSize + at));
  }
  return groups;
}
