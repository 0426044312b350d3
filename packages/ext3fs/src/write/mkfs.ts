import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BlockDevice, iterableToStream, readFile, zeros } from "@bigfile/blockdev";
import { parseUuid } from "../format/_bytes.ts";
import { fileContent } from "./_content_file.ts";
import { addDirectorySource, type SourceOwnership, type WalkHooks } from "./_dir_source_file.ts";
import { type EmitOptions, emitFilesystem, queued, type RangeCopier } from "./_emit.ts";
import { lostFoundBlocks, measureTree, planFilesystem } from "./_plan.ts";
import { scanHoles } from "./_scan.ts";
import { addTarSource, Spool } from "./_tar_source_file.ts";
import { applyDeviceTable } from "./device_table.ts";
import {
  computeGeometry,
  defaultBlockSize,
  type Geometry,
  GeometryError,
  type GeometryOptions,
  groupHasSuper,
} from "./geometry.ts";
import { FsTree, NodeKind, TimeField, type Timestamp } from "./tree.ts";

/** One input of {@linkcode mkfs}. */
export type MkfsSource =
  | string
  | { kind: "directory"; path: string }
  | { kind: "tar"; path: string }
  | { kind: "tar-stream"; stream: AsyncIterable<Uint8Array>; label?: string };

/** Options of {@linkcode mkfs}; names follow mke2fs. */
export interface MkfsOptions {
  /** `ext3` (with a journal) or `ext2`. @default "ext3" */
  type?: "ext3" | "ext2";
  /** Size in bytes. */
  size?: number;
  /** Size in blocks: 1 KiB units unless `blockSize` is given (as mke2fs counts). */
  blocks?: number;
  /** 1024, 2048 or 4096; default by size as mke2fs. */
  blockSize?: number;
  /** 128 or 256. @default 256 */
  inodeSize?: number;
  /** Number of inodes (mke2fs -N). */
  inodes?: number;
  /** Bytes per inode (mke2fs -i). */
  bytesPerInode?: number;
  /** Reserved blocks percentage (mke2fs -m). @default 5 */
  reservedPercent?: number;
  /** Volume label, at most 16 bytes. */
  label?: string;
  /** UUID text. */
  uuid?: string;
  /** Makes output reproducible: UUID, hash seed and times of created objects derive from it. */
  seed?: string;
  /** SOURCE_DATE_EPOCH: times are clamped to it and created objects get it. */
  sourceDateEpoch?: number;
  /** A genext2fs/makedevs device table (its text), applied after the sources. */
  deviceTable?: string;
  /** Owner of the root directory, as mke2fs -E root_owner. */
  rootOwner?: { uid: number; gid: number };
  /** Every file owned by 0:0 (genext2fs --squash-uids). */
  squashOwners?: boolean;
  /** Directory for the tar spool file. @default os.tmpdir() */
  tempDir?: string;
  /** Receives progress and decisions (e.g. how the size was chosen). */
  log?: (message: string) => void;
  /**
   * Threads (blockdev's `CopyPool`) that check each file of a directory
   * source can be read as the walk finds it (mkfs waits for them before it
   * returns); the same copier can then write the contents, see
   * {@linkcode MkfsImage.chunks}.
   */
  copier?: RangeCopier;
}

/** What {@linkcode mkfs} planned. */
export interface MkfsReport {
  geometry: Geometry;
  bytes: number;
  uuid: string;
  inodesUsed: number;
  dataBlocksUsed: number;
  freeBlocks: number;
  freeInodes: number;
  autoSized: boolean;
}

/** A planned filesystem, ready to be streamed. */
export interface MkfsImage {
  /** Size of the image in bytes (blocks × block size). */
  readonly size: number;
  readonly report: MkfsReport;
  /**
   * The image's bytes in order (iterate once). Removes temporary files at the
   * end. With `reuseBuffers`, chunks are views of a few reused buffers, each
   * valid only until the next chunk is requested (for sinks that write each
   * chunk before asking for the next, like blockdev's `writeToFd`): less
   * memory churn. With `copier`, file contents are copied by it, in parallel,
   * and the stream holds zero blocks in their place (see {@linkcode EmitOptions}).
   */
  chunks(options?: EmitOptions): AsyncGenerator<Uint8Array>;
  /** The image as a Web stream (iterate once). */
  stream(): ReadableStream<Uint8Array>;
  /** Removes temporary files without streaming. */
  dispose(): void;
}

/** SHA-256, synchronous (WebCrypto's digest waits a thread-pool round trip). */
function digest(text: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(text).digest());
}

function v4(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice(0, 16);
  out[6] = ((out[6] as number) & 0x0f) | 0x40;
  out[8] = ((out[8] as number) & 0x3f) | 0x80;
  return out;
}

function formatUuidText(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Plans an ext2/ext3 filesystem from directories and tar archives laid over
 * each other in order, checking everything that can fail (sizes, names,
 * unreadable files, truncated tars) before the first byte. The returned image
 * streams blocks in increasing order, reading file contents only as their
 * blocks come up; memory stays bounded by the metadata.
 *
 * @example Usage
 * ```ts
 * import { mkfs } from "@bigfile/ext3fs";
 * import { writeToFile } from "@bigfile/blockdev";
 * const image = await mkfs(["rootfs/", { kind: "tar", path: "boot.tar" }], { blocks: 4040316, seed: "demo" });
 * await writeToFile(image.chunks(), "part.img");
 * ```
 */
export async function mkfs(
  sources: readonly MkfsSource[],
  options: MkfsOptions = {},
): Promise<MkfsImage> {
  const log = options.log ?? (() => {});
  const sde = options.sourceDateEpoch;
  const reproducible = options.seed !== undefined || sde !== undefined;
  const nowSeconds = Math.floor(Date.now() / 1000);
  const createTime: Timestamp = { seconds: sde ?? nowSeconds, nanoseconds: 0 };
  const own: SourceOwnership = { createTime, mtimeOnly: reproducible };
  if (sde !== undefined) own.clampTime = sde;
  if (options.squashOwners) own.squashOwners = true;
  const tree = new FsTree();
  let spool: Spool | undefined;
  let spoolDir: string | undefined;
  const dispose = () => {
    spool?.close();
    if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
    spool = undefined;
    spoolDir = undefined;
  };
  // Hole scans under way on the copier's threads, by file, with the content they scan.
  const pendingRuns = new Map<
    number,
    { found: Promise<number[] | undefined>; origin: number | undefined; up: number | undefined }
  >();
  try {
    for (const source of sources) {
      const s = typeof source === "string" ? classify(source) : source;
      if (s.kind === "directory") {
        // With a copier, its threads check files as the walk finds them, and
        // read the ones that may have holes to find them.
        const copier = options.copier;
        if (!copier) addDirectorySource(tree, s.path, own);
        else {
          const hooks: WalkHooks = { check: (path) => copier.check(path) };
          const dataRuns = copier.dataRuns?.bind(copier);
          if (dataRuns) {
            hooks.sparse = (node, path, size, allocated) => {
              const found = dataRuns(path, { size, allocated });
              pendingRuns.set(node, { found, origin: tree.origin[node], up: tree.up[node] });
            };
          }
          await queued(copier, () => addDirectorySource(tree, s.path, own, hooks));
        }
        continue;
      }
      if (!spool) {
        spoolDir = mkdtempSync(join(options.tempDir ?? tmpdir(), "ext3fs-spool-"));
        spool = new Spool(join(spoolDir, "spool"));
      }
      if (s.kind === "tar") await addTarSource(tree, readFile(s.path), s.path, spool, own);
      else await addTarSource(tree, s.stream, s.label ?? "-", spool, own);
    }
    if (options.deviceTable !== undefined) applyDeviceTable(tree, options.deviceTable, createTime);
    if (options.rootOwner) {
      tree.uid[FsTree.ROOT] = options.rootOwner.uid;
      tree.gid[FsTree.ROOT] = options.rootOwner.gid;
    }
    // Files that may have holes are read once: their zero blocks become holes.
    // Every other file is checked, so an unreadable one fails before any output.
    const files: number[] = [];
    let maxMtime = 0;
    tree.forEachReachable((n) => {
      if (tree.kind[n] === NodeKind.FILE) files.push(n);
      // Objects mkfs created do not count. Future times are ignored, so the
      // choice does not depend on the clock.
      const m = tree.timeSeconds(n, TimeField.MTIME);
      if (!tree.isCreated(n) && m > maxMtime && m <= nowSeconds) maxMtime = m;
    });
    for (const f of files) {
      // With a copier, files of directory sources were handed to it as they
      // were found, and a tar's contents are in our own spool.
      if (options.copier && !tree.maybeSparse(f)) continue;
      const content = tree.content(f, fileContent);
      if (tree.maybeSparse(f)) {
        const size = tree.size[f] as number;
        // Found on the copier's threads while the walk went on, unless a later
        // source gave this file other contents since.
        const pending = pendingRuns.get(f);
        const runs =
          pending && pending.origin === tree.origin[f] && pending.up === tree.up[f]
            ? await pending.found.catch((error: Error) => {
                throw new RangeError(error.message);
              })
            : scanHoles({ content, size, allocated: tree.allocated.get(f) });
        if (runs) tree.dataRuns.set(f, runs);
      } else if (content.check) {
        try {
          content.check();
        } catch (error) {
          throw new TypeError(`Cannot read ${content.label}: ${(error as Error).message}`);
        }
      }
    }
    files.length = 0;
    pendingRuns.clear();
    options.copier?.flush?.();
    if (options.seed !== undefined && sde === undefined) createTime.seconds = maxMtime;

    let lostFound = tree.child(FsTree.ROOT, "lost+found");
    if (!lostFound || tree.kind[lostFound] !== NodeKind.DIR) {
      lostFound = tree.newCreatedDir(0o700);
      tree.place(FsTree.ROOT, new TextEncoder().encode("lost+found"), lostFound);
    }
    tree.compact();
    // Objects mkfs made get its creation time, now that it is known.
    tree.forEachReachable((n) => {
      if (tree.isCreated(n)) tree.setAllTimes(n, createTime);
    });
    const journal = (options.type ?? "ext3") === "ext3";
    const geoOptions = (bytes: number, inodes?: number): GeometryOptions => {
      const o: GeometryOptions = { bytes, journal };
      if (options.blockSize !== undefined) o.blockSize = options.blockSize;
      if (options.inodeSize !== undefined) o.inodeSize = options.inodeSize;
      if (options.bytesPerInode !== undefined) o.inodeRatio = options.bytesPerInode;
      const n = options.inodes ?? inodes;
      if (n !== undefined) o.inodes = n;
      if (options.reservedPercent !== undefined) o.reservedPercent = options.reservedPercent;
      return o;
    };
    let geo: Geometry;
    let autoSized = false;
    if (options.size !== undefined || options.blocks !== undefined) {
      const bytes = options.size ?? (options.blocks as number) * (options.blockSize ?? 1024);
      geo = computeGeometry(geoOptions(bytes));
    } else {
      autoSized = true;
      geo = autoSize(tree, lostFound, geoOptions, options, log);
    }
    tree.minBlocks.set(lostFound, lostFoundBlocks(geo.blockSize));
    const seedText = options.seed ?? (sde !== undefined ? `SOURCE_DATE_EPOCH=${sde}` : undefined);
    const uuid = options.uuid
      ? parseUuid(options.uuid)
      : v4(
          seedText !== undefined
            ? digest(`ext3fs uuid\0${seedText}`)
            : crypto.getRandomValues(new Uint8Array(16)),
        );
    const hashSeed = v4(
      seedText !== undefined
        ? digest(`ext3fs hash seed\0${seedText}`)
        : crypto.getRandomValues(new Uint8Array(16)),
    );
    const seedView = new DataView(hashSeed.buffer, hashSeed.byteOffset, 16);
    const seedWords = new Uint32Array(4);
    for (let i = 0; i < 4; i++) seedWords[i] = seedView.getUint32(i * 4, true);
    const plan = planFilesystem(tree, geo, { journal, createTime, hashSeed: seedWords });
    if (options.copier) {
      try {
        await options.copier.finish();
      } catch (error) {
        throw new TypeError((error as Error).message);
      }
    }
    if (journal && geo.journalBlocks === 0)
      log("Filesystem too small for a journal: writing it without one");
    const label = new TextEncoder().encode(options.label ?? "");
    if (label.length > 16)
      throw new RangeError(
        `Cannot use label ${JSON.stringify(options.label)}: ${label.length} bytes, at most 16`,
      );
    const settings = { uuid, hashSeed, label, time: Math.min(createTime.seconds, nowSeconds) };
    const size = geo.blocksCount * geo.blockSize;
    let freeData = 0;
    for (let g = 0; g < geo.groupCount; g++) freeData += plan.groupDataCount[g] as number;
    const report: MkfsReport = {
      geometry: geo,
      bytes: size,
      uuid: formatUuidText(uuid),
      inodesUsed: plan.lastIno,
      dataBlocksUsed: plan.usedData,
      freeBlocks: freeData - plan.usedData,
      freeInodes: geo.inodesCount - plan.lastIno,
      autoSized,
    };
    let started = false;
    const chunks = async function* (chunkOptions: EmitOptions = {}): AsyncGenerator<Uint8Array> {
      if (started) throw new TypeError("Cannot stream a filesystem image twice");
      started = true;
      try {
        yield* emitFilesystem(plan, settings, fileContent, chunkOptions);
      } finally {
        dispose();
      }
    };
    return { size, report, chunks, stream: () => iterableToStream(chunks()), dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

function classify(source: string): Exclude<MkfsSource, string> {
  if (source === "-")
    throw new TypeError(
      "Cannot read '-' here: pass { kind: 'tar-stream', stream } for standard input",
    );
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(source);
  } catch (error) {
    throw new TypeError(`Cannot read source ${source}: ${(error as Error).message}`);
  }
  return st?.isDirectory() ? { kind: "directory", path: source } : { kind: "tar", path: source };
}

function autoSize(
  tree: FsTree,
  lostFound: number,
  geoOptions: (bytes: number, inodes?: number) => GeometryOptions,
  options: MkfsOptions,
  log: (message: string) => void,
): Geometry {
  const MiB = 1024 * 1024;
  let bs = options.blockSize ?? 1024;
  tree.minBlocks.set(lostFound, lostFoundBlocks(bs));
  let need = measureTree(tree, bs);
  let bytes = Math.max(MiB, Math.ceil((need.blocks * bs * 1.2) / MiB) * MiB);
  for (let i = 0; i < 200; i++) {
    const wantBs = options.blockSize ?? defaultBlockSize(bytes);
    if (wantBs !== bs) {
      bs = wantBs;
      tree.minBlocks.set(lostFound, lostFoundBlocks(bs));
      need = measureTree(tree, bs);
    }
    const wantInodes = Math.ceil(need.inodes * 1.1) + 16 + 10;
    let geo: Geometry;
    try {
      geo = computeGeometry(geoOptions(bytes));
      if (
        options.inodes === undefined &&
        options.bytesPerInode === undefined &&
        geo.inodesCount < wantInodes
      ) {
        geo = computeGeometry(geoOptions(bytes, wantInodes));
      }
    } catch (error) {
      if (!(error instanceof GeometryError)) throw error;
      bytes = Math.ceil((bytes * 1.25) / MiB) * MiB;
      continue;
    }
    let data = 0;
    for (let g = 0; g < geo.groupCount; g++) {
      const start = geo.firstDataBlock + g * geo.blocksPerGroup;
      const end = Math.min(start + geo.blocksPerGroup, geo.blocksCount);
      data += end - start - 2 - geo.inodeTableBlocks;
    }
    data -= geo.descBlocks + geo.reservedGdtBlocks; // a lower bound on backups is enough for the estimate below
    let backups = 0;
    for (let g = 0; g < geo.groupCount; g++) if (groupHasSuper(g)) backups++;
    data -= (backups - 1) * (1 + geo.descBlocks + geo.reservedGdtBlocks) + 1;
    const journalAll = geo.journalBlocks + Math.ceil(geo.journalBlocks / geo.addrPerBlock) + 2;
    const headroom = Math.max(Math.ceil(need.blocks * 0.1), Math.ceil(MiB / bs));
    const fits =
      data - journalAll - 1 >= need.blocks + headroom && geo.inodesCount - 10 >= need.inodes;
    if (fits) {
      log(
        `Sized the filesystem to fit: the tree needs ${need.blocks} blocks of ${bs} bytes and ${need.inodes} inodes; ` +
          `${geo.blocksCount} blocks (${geo.blocksCount * bs} bytes) with ${geo.inodesCount} inodes leave about 10% free (give --size or --blocks to choose)`,
      );
      return geo;
    }
    bytes = Math.ceil((bytes * 1.1) / MiB) * MiB;
  }
  throw new RangeError("Cannot find a filesystem size that fits the tree");
}

/** Options of {@linkcode writeImageToDevice}. */
export interface WriteToDeviceOptions {
  /** Skip all-zero chunks (only when the device range already reads as zeros). @default false */
  skipZeros?: boolean;
}

/**
 * Writes an image into a block device at `offset` (a partition inside a big
 * file), chunk by chunk, in order.
 *
 * @example Usage
 * ```ts
 * import { FileDevice } from "@bigfile/blockdev";
 * import { mkfs, writeImageToDevice } from "@bigfile/ext3fs";
 * const disk = await FileDevice.open("big.img");
 * await writeImageToDevice(await mkfs(["rootfs/"], { blocks: 4040316 }), disk, 32256);
 * await disk.close();
 * ```
 */
export async function writeImageToDevice(
  image: MkfsImage,
  device: BlockDevice,
  offset: number,
  options: WriteToDeviceOptions = {},
): Promise<void> {
  if (offset < 0 || offset + image.size > device.size) {
    image.dispose();
    throw new RangeError(
      `Cannot write a ${image.size}-byte filesystem at offset ${offset}: the device holds ${device.size} bytes`,
    );
  }
  const zero = zeros(1).buffer;
  let position = offset;
  for await (const chunk of image.chunks()) {
    const skip = options.skipZeros && (chunk.buffer === zero || isAllZero(chunk));
    if (!skip) await device.write(position, chunk);
    position += chunk.length;
  }
  await device.flush();
}

function isAllZero(chunk: Uint8Array): boolean {
  for (let i = 0; i < chunk.length; i++) if (chunk[i] !== 0) return false;
  return true;
}
