/**
 * mkfs with the walk writer ({@linkcode ./_walk_writer.ts}): the first walk
 * measures and checks before any output, the second writes when the image
 * is streamed, into the sink's file when it offers one (`EmitOptions.target`)
 * or into a temporary file that is then streamed.
 */
import {
  closeSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { iterableToStream, zeros } from "@bigfile/blockdev";
import { readFile } from "@bigfile/blockdev/node";
import { FeatureRoCompat } from "../format/constants.ts";
import { allocatorSpace, lastInoOf, nodeFormatOf } from "./_allocator.ts";
import { checksDone, withCopier } from "./_copier_queue.ts";
import {
  blocksError,
  fileSizeCheck,
  inodesError,
  LARGE_FILE_BYTES,
  largeFileError,
  symlinkCheck,
} from "./_errors.ts";
import { chooseGeometry, formatUuidText, type ResolvedMkfsOptions } from "./_mkfs_options.ts";
import type { EmitOptions } from "./_output_options.ts";
import { planReserved } from "./_reserved_inodes.ts";
import { TarShadow } from "./_tar_shadow.ts";
import { Spool } from "./_tar_source_file.ts";
import { measureWalk, type WalkSettings, type WalkTarget, writeWalk } from "./_walk_writer.ts";
import type { MkfsImage, MkfsReport, MkfsSource } from "./mkfs.ts";

const CHUNK = 1 << 20;

/**
 * A temporary directory, made when first needed (tar shadows and their
 * spool, an image bound for a pipe), removed with what was opened in it.
 */
class WorkDir {
  readonly #parent: string;
  #path: string | undefined;
  readonly #closers: (() => void)[] = [];

  constructor(parent: string) {
    this.#parent = parent;
  }

  get path(): string {
    this.#path ??= mkdtempSync(join(this.#parent, "ext3fs-walk-"));
    return this.#path;
  }

  /** Calls `close` before the directory goes. */
  onRemove(close: () => void): void {
    this.#closers.push(close);
  }

  remove(): void {
    for (const close of this.#closers.splice(0)) close();
    if (this.#path) rmSync(this.#path, { recursive: true, force: true });
    this.#path = undefined;
  }
}

/**
 * Measures and checks the sources (tar archives are laid out on disk first,
 * their bodies in a spool); the image writes them when streamed.
 */
export async function walkImage(
  sources: readonly Exclude<MkfsSource, string>[],
  resolved: ResolvedMkfsOptions,
): Promise<MkfsImage> {
  const work = new WorkDir(resolved.tempDir);
  try {
    let spool: Spool | undefined;
    const roots: (string | TarShadow)[] = [];
    for (const source of sources) {
      if (source.kind === "directory") {
        // As the tree writer: a source is the directory itself, not a symlink to one.
        if (!lstatSync(source.path).isDirectory())
          throw new TypeError(`Cannot use ${source.path} as a directory source: not a directory`);
        roots.push(source.path);
        continue;
      }
      if (!spool) {
        const opened = new Spool(join(work.path, "spool"));
        work.onRemove(() => opened.close());
        spool = opened;
      }
      const dir = join(work.path, `tar-${roots.length}`);
      mkdirSync(dir);
      const [stream, label] =
        source.kind === "tar"
          ? [readFile(source.path), source.path]
          : [source.stream, source.label ?? "-"];
      const shadow = await TarShadow.build(stream, label, spool, resolved.own, dir);
      work.onRemove(() => shadow.close());
      roots.push(shadow);
    }
    return await walkSources(roots, resolved, work);
  } catch (error) {
    work.remove();
    throw error;
  }
}

/** {@linkcode walkImage} once the tar sources are on disk (in `work`). */
async function walkSources(
  roots: readonly (string | TarShadow)[],
  resolved: ResolvedMkfsOptions,
  work: WorkDir,
): Promise<MkfsImage> {
  const { given: options, createTime, nowSeconds, log, journal, features } = resolved;
  const { uuid, hashSeed, seedWords, label } = resolved;
  const settings: WalkSettings = {
    roots,
    own: resolved.own,
    rootOwner: options.rootOwner,
    createTime,
    hashSeed: seedWords,
    dirIndex: resolved.format.dirIndex,
    format: nodeFormatOf(features, uuid),
    uuid,
    copier: options.copier,
    inodeSize: options.inodeSize ?? 256,
  };
  const measure = await measureWalk(settings, nowSeconds);
  await checksDone(options.copier);
  if (resolved.createTimeFromSources) createTime.seconds = measure.maxMtime;
  const { geo, autoSized } = chooseGeometry(resolved, (bs) => ({
    blocks: measure.plain.get(bs) as number,
    inodes: measure.inodes,
  }));
  const bs = geo.blockSize;
  const lastIno = lastInoOf(measure.inodes);
  if (lastIno > geo.inodesCount) throw inodesError(lastIno, geo);
  const space = allocatorSpace(geo, features, settings.format);
  const reserved = planReserved(geo, space, { features, createTime }, 0);
  const usedData = (measure.exact.get(bs) as number) + reserved.cursor;
  if (usedData > space.total) throw blocksError(usedData, geo, space.total);
  const largest = measure.largestFile;
  const tooBig = fileSizeCheck(largest.size, bs, () => largest.path);
  if (tooBig) throw tooBig;
  if (!(features.roCompat & FeatureRoCompat.LARGE_FILE) && largest.size >= LARGE_FILE_BYTES)
    throw largeFileError(largest.path, largest.size);
  const badLink = measure.emptySymlink
    ? symlinkCheck(0, bs)
    : measure.longestSymlink > 0
      ? symlinkCheck(measure.longestSymlink, bs)
      : undefined;
  if (badLink) throw badLink;
  if (journal && geo.journalBlocks === 0)
    log("Filesystem too small for a journal: writing it without one");
  const emit = { uuid, hashSeed, label, time: Math.min(createTime.seconds, nowSeconds) };
  const size = geo.blocksCount * bs;
  const report: MkfsReport = {
    geometry: geo,
    bytes: size,
    uuid: formatUuidText(uuid),
    inodesUsed: lastIno,
    dataBlocksUsed: usedData,
    freeBlocks: space.total - usedData,
    freeInodes: geo.inodesCount - lastIno,
    autoSized,
  };
  const write = async (target: WalkTarget, copier: EmitOptions["copier"]) => {
    const walked = await writeWalk(
      { ...settings, copier },
      geo,
      features,
      emit,
      target,
      measure.runs,
    );
    if (walked.lastIno !== lastIno || walked.usedData - walked.placedTreeBlocks !== usedData) {
      throw new RangeError(
        `Cannot write the filesystem: the sources changed while mkfs ran (${walked.lastIno} inodes and ${walked.usedData} blocks, measured ${lastIno} and ${usedData})`,
      );
    }
  };
  let started = false;
  const dispose = () => work.remove();
  const chunks = async function* (chunkOptions: EmitOptions = {}): AsyncGenerator<Uint8Array> {
    if (started) throw new TypeError("Cannot stream a filesystem image twice");
    started = true;
    try {
      const target = chunkOptions.target;
      if (target) {
        yield* withCopier(chunkOptions.copier, writeInPlace(target, chunkOptions.copier));
        return;
      }
      // No file to write into: a temporary one, then streamed.
      const path = join(work.path, "image");
      const fd = openSync(path, "w");
      try {
        await write({ fd, offset: 0 }, undefined);
        ftruncateSync(fd, size);
      } finally {
        closeSync(fd);
      }
      yield* readFile(path, { length: size, reuseBuffer: chunkOptions.reuseBuffers ?? false });
    } finally {
      dispose();
    }
  };
  // Writes the image into the sink's file; the stream only moves the sink past it (holes).
  async function* writeInPlace(target: WalkTarget, copier: EmitOptions["copier"]) {
    await write(target, copier);
    for (let left = size; left > 0; left -= CHUNK) yield zeros(Math.min(left, CHUNK));
  }
  return { size, report, chunks, stream: () => iterableToStream(chunks()), dispose };
}
