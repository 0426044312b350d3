import { mkdtempSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { type BlockDevice, iterableToStream, zeros } from "@bigfile/blockdev";
import { readFile } from "@bigfile/blockdev/node";
import { nodeFormatOf } from "./_allocator.ts";
import { fileContent } from "./_content_file.ts";
import { checksDone, queued } from "./_copier_queue.ts";
import { applyDeviceTable } from "./_device_table.ts";
import { addDirectorySource, TreeLimitError, type WalkHooks } from "./_dir_source_file.ts";
import { emitFilesystem } from "./_emit_tree.ts";
import { lostFoundBlocks, measureTree } from "./_measure.ts";
import { chooseGeometry, formatUuidText, resolveMkfsOptions } from "./_mkfs_options.ts";
import type { EmitOptions, RangeCopier } from "./_output_options.ts";
import { planFilesystem } from "./_plan.ts";
import { scanHoles } from "./_scan.ts";
import { addTarSource, Spool } from "./_tar_source_file.ts";
import { FsTree, NodeKind, TimeField } from "./_tree.ts";
import { walkImage } from "./_walk_image.ts";
import type { Geometry } from "./geometry.ts";

/** One input of {@linkcode mkfs}. */
export type MkfsSource =
  | string
  | { kind: "directory"; path: string }
  | { kind: "tar"; path: string }
  | { kind: "tar-stream"; stream: AsyncIterable<Uint8Array>; label?: string };

/** Options of {@linkcode mkfs}; names follow mke2fs. */
export interface MkfsOptions {
  /**
   * `ext3` (with a journal), `ext2`, or `ext4` (mke2fs.conf's ext4 features:
   * has_journal, extent, huge_file, flex_bg, metadata_csum, 64bit,
   * dir_nlink, extra_isize, beside the base features). @default "ext3"
   */
  type?: "ext3" | "ext2" | "ext4";
  /**
   * Feature edits on the type's features, as mke2fs -O takes them:
   * `"^metadata_csum,^64bit"` (for older boot loaders), `"^has_journal"`,
   * `"none"`; or the same as a list. Combinations mke2fs refuses are refused
   * with its reason, and so are features this writer does not write.
   */
  features?: string | readonly string[];
  /** Size in bytes. */
  size?: number;
  /** Size in blocks: 1 KiB units unless `blockSize` is given (as mke2fs counts). */
  blocks?: number;
  /** 1024, 2048 or 4096; default by size as mke2fs. */
  blockSize?: number;
  /** 128 or 256. @default 256 */
  inodeSize?: number;
  /**
   * Without `size`/`blocks`: the free space the smallest fitting filesystem
   * keeps beyond the tree, in bytes. @default about 10% of the tree, at least 1 MiB
   */
  freeBytes?: number;
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
  /**
   * How the filesystem is made. `tree`: the sources' metadata is read into
   * memory (about 200 bytes per entry), planned, then streamed in block order.
   * `walk` (no device table): the sources are walked twice, to measure and
   * then to write by position, one directory in memory at a time (a tar is
   * first laid out on disk, in `tempDir`), so memory stays bounded whatever
   * the tree; it writes into the file a sink offers (`EmitOptions.target`),
   * else into a temporary file it then streams. Both give the same bytes.
   * `auto`: `tree`, switching to `walk` when the sources hold more than
   * `walkAbove` entries (unless a tar comes from a stream, which cannot be
   * read again).
   * @default "auto"
   */
  writer?: "auto" | "tree" | "walk";
  /** Entries past which `auto` switches to the walk writer (a quarter of it with a tar source). @default 262144 */
  walkAbove?: number;
}

export { WALK_ABOVE_ENTRIES } from "./_mkfs_options.ts";

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

/**
 * Plans an ext2/ext3 filesystem from directories and tar archives laid over
 * each other in order, checking everything that can fail (sizes, names,
 * unreadable files, truncated tars) before the first byte. The returned image
 * streams blocks in increasing order, reading file contents only as their
 * blocks come up; memory stays bounded by the metadata.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createWriteStream } from "node:fs";
 * import { mkdir, stat, writeFile } from "node:fs/promises";
 * import { pipeline } from "node:stream/promises";
 * import { writeTar } from "@bigfile/blockdev";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { mkfs } from "@bigfile/ext3fs/node";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * const cfg = new TextEncoder().encode("set timeout=0\n");
 * await pipeline(writeTar([{ type: "file", path: "boot/grub/grub.cfg", body: cfg }]), createWriteStream("boot.tar"));
 * // sources laid over each other in order; the seed's size: { blocks: 4040316 }
 * const image = await mkfs(["rootfs/", { kind: "tar", path: "boot.tar" }], { blocks: 8192, seed: "demo" });
 * await writeToFile(image.chunks(), "part.img");
 * assert.equal((await stat("part.img")).size, 8192 * 1024);
 * ```
 */
export async function mkfs(
  sources: readonly MkfsSource[],
  options: MkfsOptions = {},
): Promise<MkfsImage> {
  const resolved = resolveMkfsOptions(options);
  const { log, nowSeconds, createTime, own, journal, writer } = resolved;
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
  const classified = sources.map((s) => (typeof s === "string" ? classify(s) : s));
  const walkable = classified.length > 0 && options.deviceTable === undefined;
  const walk = () => walkImage(classified, resolved);
  if (writer === "walk") {
    if (!walkable)
      throw new TypeError(
        "Cannot use the walk writer here: it needs at least one source, and no device table",
      );
    return walk();
  }
  // The switch reads the sources again: not possible for a stream. A tar
  // read into the tree costs about four times a directory's memory per entry.
  const again = classified.every((s) => s.kind !== "tar-stream");
  const tars = classified.some((s) => s.kind === "tar");
  const above = resolved.walkAbove;
  const limit = writer === "auto" && walkable && again ? (tars ? Math.ceil(above / 4) : above) : 0;
  try {
    for (const s of classified) {
      if (s.kind === "directory") {
        // With a copier, its threads check files as the walk finds them, and
        // read the ones that may have holes to find them.
        const copier = options.copier;
        if (!copier) addDirectorySource(tree, s.path, own, { limit });
        else {
          const hooks: WalkHooks = { check: (path) => copier.check(path), limit };
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
        spoolDir = mkdtempSync(join(resolved.tempDir, "ext3fs-spool-"));
        spool = new Spool(join(spoolDir, "spool"));
      }
      if (s.kind === "tar") await addTarSource(tree, readFile(s.path), s.path, spool, own, limit);
      else await addTarSource(tree, s.stream, s.label ?? "-", spool, own, limit);
    }
    if (options.deviceTable !== undefined) applyDeviceTable(tree, options.deviceTable, createTime);
    if (options.rootOwner) {
      tree.uid[FsTree.ROOT] = options.rootOwner.uid;
      tree.gid[FsTree.ROOT] = options.rootOwner.gid;
    }
    // Files that may have holes are read once: their zero blocks become holes.
    // Every other file is checked, so an unreadable one fails before any output.
    // Every check and scan queued so far: wake the copier's threads for them.
    options.copier?.flush?.();
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
    if (resolved.createTimeFromSources) createTime.seconds = maxMtime;

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
    const lf = lostFound;
    const measureFormat = nodeFormatOf(resolved.features, resolved.uuid);
    const { geo, autoSized } = chooseGeometry(resolved, (bs) => {
      tree.minBlocks.set(lf, lostFoundBlocks(bs));
      return measureTree(tree, bs, measureFormat, options.inodeSize);
    });
    tree.minBlocks.set(lostFound, lostFoundBlocks(geo.blockSize));
    const { uuid, hashSeed, seedWords, label, features } = resolved;
    const plan = planFilesystem(tree, geo, { features, createTime, hashSeed: seedWords, uuid });
    await checksDone(options.copier);
    if (journal && geo.journalBlocks === 0)
      log("Filesystem too small for a journal: writing it without one");
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
    if (!(error instanceof TreeLimitError)) throw error;
    // Too many entries to keep: walk instead (scans under way are not needed).
    for (const pending of pendingRuns.values()) pending.found.catch(() => {});
    log(
      `The sources hold over ${limit} entries: walking them one directory at a time instead of keeping the tree in memory`,
    );
    return walk();
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
 * import assert from "node:assert/strict";
 * import { mkdir, truncate, writeFile } from "node:fs/promises";
 * import { SliceDevice } from "@bigfile/blockdev";
 * import { FileDevice } from "@bigfile/blockdev/node";
 * import { FilesystemReader } from "@bigfile/ext3fs";
 * import { mkfs, writeImageToDevice } from "@bigfile/ext3fs/node";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * await writeFile("big.img", "");
 * await truncate("big.img", 32256 + (8 << 20));
 * const disk = await FileDevice.open("big.img");
 * await writeImageToDevice(await mkfs(["rootfs/"], { size: 8 << 20 }), disk, 32256); // the seed's: { blocks: 4040316 }
 * const fs = await FilesystemReader.open(new SliceDevice(disk, { offset: 32256, length: 8 << 20 }));
 * assert.equal(fs.superblock.blocksCount * fs.blockSize, 8 << 20);
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
