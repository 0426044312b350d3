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
import { tmpdir } from "node:os";
import { join } from "node:path";
import { iterableToStream, readFile, zeros } from "@bigfile/blockdev";
import type { SourceOwnership } from "./_dir_source_file.ts";
import type { EmitOptions } from "./_emit.ts";
import { chooseGeometry, formatUuidText, identity, labelBytes } from "./_mkfs_common.ts";
import {
  blocksError,
  dataSpace,
  fileSizeCheck,
  inodesError,
  planReserved,
  symlinkCheck,
} from "./_plan.ts";
import { TarShadow } from "./_tar_shadow.ts";
import { Spool } from "./_tar_source_file.ts";
import { measureWalk, type WalkSettings, type WalkTarget, writeWalk } from "./_walk_writer.ts";
import type { MkfsImage, MkfsOptions, MkfsReport, MkfsSource } from "./mkfs.ts";
import type { Timestamp } from "./tree.ts";

/** What mkfs decided before choosing the writer. */
export interface WalkContext {
  own: SourceOwnership;
  /** Changed here to the newest mtime when only a seed makes the output reproducible. */
  createTime: Timestamp;
  nowSeconds: number;
  log: (message: string) => void;
}

const CHUNK = 1 << 20;

/** Measures and checks the directory sources `roots`; the image writes them when streamed. */
export async function walkImage(
  sources: readonly Exclude<MkfsSource, string>[],
  options: MkfsOptions,
  context: WalkContext,
): Promise<MkfsImage> {
  // Tar archives are laid out on disk first (their bodies in a spool).
  let work: string | undefined;
  let spool: Spool | undefined;
  const shadows: TarShadow[] = [];
  const removeWork = () => {
    for (const shadow of shadows.splice(0)) shadow.close();
    spool?.close();
    spool = undefined;
    if (work) rmSync(work, { recursive: true, force: true });
    work = undefined;
  };
  const layOut = async (): Promise<(string | TarShadow)[]> => {
    const roots: (string | TarShadow)[] = [];
    for (const source of sources) {
      if (source.kind === "directory") {
        // As the tree writer: a source is the directory itself, not a symlink to one.
        if (!lstatSync(source.path).isDirectory())
          throw new TypeError(`Cannot use ${source.path} as a directory source: not a directory`);
        roots.push(source.path);
        continue;
      }
      work ??= mkdtempSync(join(options.tempDir ?? tmpdir(), "ext3fs-walk-"));
      spool ??= new Spool(join(work, "spool"));
      const dir = join(work, `tar-${shadows.length}`);
      mkdirSync(dir);
      const shadow =
        source.kind === "tar"
          ? await TarShadow.build(readFile(source.path), source.path, spool, context.own, dir)
          : await TarShadow.build(source.stream, source.label ?? "-", spool, context.own, dir);
      shadows.push(shadow);
      roots.push(shadow);
    }
    return roots;
  };
  try {
    return await walkSources(await layOut(), options, context, removeWork);
  } catch (error) {
    removeWork();
    throw error;
  }
}

/** {@linkcode walkImage} once the tar sources are on disk; `removeWork` removes them. */
async function walkSources(
  roots: readonly (string | TarShadow)[],
  options: MkfsOptions,
  context: WalkContext,
  removeWork: () => void,
): Promise<MkfsImage> {
  const { createTime, nowSeconds, log } = context;
  const { uuid, hashSeed, seedWords } = identity(options);
  const label = labelBytes(options);
  const settings: WalkSettings = {
    roots,
    own: context.own,
    rootOwner: options.rootOwner,
    createTime,
    hashSeed: seedWords,
    copier: options.copier,
  };
  const measure = await measureWalk(settings, nowSeconds);
  if (options.copier) {
    try {
      await options.copier.finish();
    } catch (error) {
      throw new TypeError((error as Error).message);
    }
  }
  if (options.seed !== undefined && options.sourceDateEpoch === undefined)
    createTime.seconds = measure.maxMtime;
  const journal = (options.type ?? "ext3") === "ext3";
  const { geo, autoSized } = chooseGeometry(options, journal, log, (bs) => ({
    blocks: measure.plain.get(bs) as number,
    inodes: measure.inodes,
  }));
  const bs = geo.blockSize;
  // Inodes: the root is 2, lost+found 11, the rest from 12.
  const lastIno = measure.inodes + 9;
  if (lastIno > geo.inodesCount) throw inodesError(lastIno, geo);
  const space = dataSpace(geo);
  const reserved = planReserved(geo, space, { journal, createTime }, 0);
  const usedData = (measure.exact.get(bs) as number) + reserved.cursor;
  if (usedData > space.total) throw blocksError(usedData, geo, space.total);
  const largest = measure.largestFile;
  const tooBig = fileSizeCheck(largest.size, bs, () => largest.path);
  if (tooBig) throw tooBig;
  const badLink =
    (measure.emptySymlink ? symlinkCheck(0, bs) : undefined) ??
    symlinkCheck(Math.max(1, measure.longestSymlink), bs);
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
      journal,
      emit,
      target,
      measure.runs,
    );
    if (walked.lastIno !== lastIno || walked.usedData !== usedData) {
      throw new RangeError(
        `Cannot write the filesystem: the sources changed while mkfs ran (${walked.lastIno} inodes and ${walked.usedData} blocks, measured ${lastIno} and ${usedData})`,
      );
    }
  };
  let started = false;
  let tempDir: string | undefined;
  const dispose = () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    tempDir = undefined;
    removeWork();
  };
  const chunks = async function* (chunkOptions: EmitOptions = {}): AsyncGenerator<Uint8Array> {
    if (started) throw new TypeError("Cannot stream a filesystem image twice");
    started = true;
    try {
      const target = chunkOptions.target;
      if (target) {
        const copier = chunkOptions.copier;
        let finished = false;
        try {
          await write(target, copier);
          await copier?.finish();
          finished = true;
        } finally {
          // Stopped early: stop the copier's threads before the sink closes the file.
          if (!finished) await copier?.close?.();
        }
        // The image is in place: the sink only moves past it (holes, never written).
        for (let left = size; left > 0; left -= CHUNK) yield zeros(Math.min(left, CHUNK));
        return;
      }
      // No file to write into: a temporary one, then streamed.
      tempDir = mkdtempSync(join(options.tempDir ?? tmpdir(), "ext3fs-walk-"));
      const path = join(tempDir, "image");
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
  return { size, report, chunks, stream: () => iterableToStream(chunks()), dispose };
}
