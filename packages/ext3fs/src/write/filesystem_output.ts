import { availableParallelism } from "node:os";
import { CopyPool, type SinkOptions } from "@bigfile/blockdev/node";
import type { EmitOptions, RangeCopier } from "./_output_options.ts";
import type { MkfsImage } from "./mkfs.ts";

/**
 * Copy threads for a filesystem written into a regular file: `requested`, or
 * one less than the cores, at most 4 (none on a single core).
 */
export function copyThreadCount(requested?: number): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 0 || requested > 64)
      throw new RangeError(`Cannot use ${requested} copy threads: give 0 to 64`);
    return requested;
  }
  return Math.max(0, Math.min(4, availableParallelism() - 1));
}

/**
 * A {@linkcode CopyPool} of {@linkcode copyThreadCount} threads, or undefined
 * for none. Give it to `mkfs` (it checks files as the walk finds them) and to
 * {@linkcode filesystemOutput} (it copies their contents); close it at the end.
 */
export function createCopier(requested?: number): CopyPool | undefined {
  const threads = copyThreadCount(requested);
  return threads > 0 ? new CopyPool({ threads }) : undefined;
}

/** Options of {@linkcode filesystemOutput}. */
export interface FilesystemOutputOptions {
  /** The copier given to `mkfs`: used when the sink writes by position with holes. */
  copier?: CopyPool | undefined;
  /** The sink writes each chunk before pulling the next (blockdev's file and descriptor sinks). @default false */
  reuseBuffers?: boolean;
  /** Called after each chunk with the bytes streamed so far. */
  onProgress?: (bytes: number) => void;
}

/** The chunks of an image and the options a blockdev sink needs to write them fast. */
export interface FilesystemOutput {
  chunks: AsyncGenerator<Uint8Array>;
  sinkOptions: SinkOptions;
}

/**
 * Prepares a planned filesystem for one of blockdev's sinks (`writeToFile`,
 * `writeToFd`, the CLI's `writeOutput`): when the sink writes a regular file
 * by position, leaving holes, file contents are copied by the copier's
 * threads straight into the file and the walk writer writes there too; over a
 * pipe every byte flows through the stream. The bytes are the same either way.
 *
 * @example A filesystem at byte 32256 of a disk image
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeSync, openSync } from "node:fs";
 * import { mkdir, truncate, writeFile } from "node:fs/promises";
 * import { SliceDevice } from "@bigfile/blockdev";
 * import { FileDevice, writeToFd } from "@bigfile/blockdev/node";
 * import { FilesystemReader } from "@bigfile/ext3fs";
 * import { createCopier, filesystemOutput, mkfs } from "@bigfile/ext3fs/node";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * await writeFile("big.img", "");
 * await truncate("big.img", 32256 + (8 << 20)); // room for the filesystem at byte 32256
 * const copier = createCopier(); // worker threads copy file contents (undefined: one thread)
 * const image = await mkfs(["rootfs/"], { size: 8 << 20, ...(copier ? { copier } : {}) }); // the seed's: { blocks: 4040316 }
 * const { chunks, sinkOptions } = filesystemOutput(image, { ...(copier ? { copier } : {}), reuseBuffers: true });
 * const fd = openSync("big.img", "r+");
 * await writeToFd(chunks, fd, { ...sinkOptions, positional: true, offset: 32256 });
 * closeSync(fd);
 * await copier?.close();
 * const disk = await FileDevice.open("big.img", { readOnly: true });
 * const fs = await FilesystemReader.open(new SliceDevice(disk, { offset: 32256, length: 8 << 20 }));
 * assert.ok((await fs.readdir("/boot")).some((e) => e.name === "vmlinuz"));
 * await disk.close();
 * ```
 */
export function filesystemOutput(
  image: MkfsImage,
  options: FilesystemOutputOptions = {},
): FilesystemOutput {
  const bs = image.report.geometry.blockSize;
  const emit: EmitOptions = { reuseBuffers: options.reuseBuffers ?? false };
  const progress = options.onProgress;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let done = 0;
    for await (const chunk of image.chunks(emit)) {
      yield chunk;
      done += chunk.length;
      progress?.(done);
    }
  }
  const sinkOptions: SinkOptions = {
    // Zero blocks of the image's block size stay holes the copier fills.
    holeBlockSize: bs,
    onSparseTarget: (file) => {
      // The walk writer writes straight into the file.
      emit.target = { fd: file.fd, offset: file.offset, placement: file.placement };
      const pool = options.copier;
      if (pool && bs % file.holeBlockSize === 0) {
        pool.attach(file.fd, file.offset, bs, file.placement);
        emit.copier = pool as RangeCopier;
      }
    },
  };
  return { chunks: chunks(), sinkOptions };
}
