/** How an image goes out: the options of its stream, and the copier that writes file contents beside it. */
import type { ImagePlacement } from "@bigfile/blockdev";
import type { CopyPool } from "@bigfile/blockdev/node";

/**
 * Copies file contents into the output by itself, and checks that source
 * files can be read: a blockdev `CopyPool` attached where the image starts
 * (`copy` takes byte offsets of the image), or anything shaped like it.
 * `finish` resolves when every range is in place (the stream ends only then).
 */
export type RangeCopier = Pick<CopyPool, "copy" | "check" | "finish"> &
  Partial<Pick<CopyPool, "flush" | "close" | "dataRuns">>;

/** How {@linkcode emitFilesystem} hands out its chunks. */
export interface EmitOptions {
  /** Chunks are views of a few reused buffers: consume each before pulling the next. */
  reuseBuffers?: boolean;
  /**
   * File contents that the copier can read (files of directory sources and
   * the tar spool) go through it; the stream holds zero blocks in their place.
   * Only for a sink that never writes zero blocks of the image's block size.
   */
  copier?: RangeCopier;
  /**
   * The file the sink writes into, empty, and where the image starts in it
   * (a sink's `onSparseTarget`): mkfs's walk writer writes there by position
   * and the stream only holds holes. The tree writer does not use it.
   */
  target?: FileTarget;
}

/** A file the image is written into by position. */
export interface FileTarget {
  fd: number;
  /** Where the image starts in the file (or in the placement's image). */
  offset: number;
  /** Where the image's bytes go in the file, when it is a container (blockdev's `ImagePlacement`). */
  placement?: ImagePlacement | undefined;
}
