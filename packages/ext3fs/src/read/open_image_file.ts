import { closeSync, openSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlockDevice } from "@bigfile/blockdev";
import { FileDevice, writeToFd } from "@bigfile/blockdev/node";
import { openPartition } from "@bigfile/mbr";
import { SyncReadFileDevice } from "./_sync_file_device.ts";
import { FilesystemReader, type ReaderOptions } from "./filesystem_reader.ts";

/** Options for {@linkcode openImageFile}. */
export interface OpenImageOptions extends ReaderOptions {
  /** Read partition N (1-4 primary, 5+ logical) of a DOS-partitioned disk image. */
  partition?: number;
}

/** A filesystem opened from a file; `close()` releases the file. */
export interface OpenedImage {
  reader: FilesystemReader;
  device: BlockDevice;
  close(): Promise<void>;
}

/**
 * Opens the ext2/3/4 filesystem in an image file (read-only), or in one
 * partition of a disk image.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { planWrap, wrapPartition } from "@bigfile/mbr";
 * import { mkfs, openImageFile } from "@bigfile/ext3fs/node";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * // a disk like the seed's, smaller: the filesystem in partition 1 at byte 32256
 * const fsImage = await mkfs(["rootfs"], { size: 8 << 20 });
 * await writeToFile(wrapPartition(fsImage.chunks(), planWrap({ partitionSize: 8 << 20, align: "cylinder" })), "big.img");
 * const image = await openImageFile("big.img", { partition: 1 });
 * const names = (await image.reader.readdir("/boot")).map((e) => e.name);
 * assert.ok(names.includes("vmlinuz"));
 * await image.close();
 * ```
 */
export async function openImageFile(
  path: string,
  options: OpenImageOptions = {},
): Promise<OpenedImage> {
  const probe = await FileDevice.open(path, { readOnly: true });
  const size = probe.size;
  await probe.close();
  const file = new SyncReadFileDevice(path, size);
  try {
    let device: BlockDevice = file;
    if (options.partition !== undefined) device = await openPartition(file, options.partition);
    const reader = await FilesystemReader.open(device, options);
    return { reader, device, close: () => file.close() };
  } catch (error) {
    await file.close();
    throw error;
  }
}

/**
 * Opens a filesystem image that arrives as a stream (a pipe, standard
 * input): the bytes are spooled to a sparse temporary file first (zero
 * blocks cost no disk space), which `close()` removes.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { readFile, writeToFile } from "@bigfile/blockdev/node";
 * import { mkfs, openImageStream } from "@bigfile/ext3fs/node";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * await writeToFile((await mkfs(["rootfs"], { size: 8 << 20 })).chunks(), "root.ext3");
 * // readFd(0) for standard input; any AsyncIterable<Uint8Array> will do
 * const image = await openImageStream(readFile("root.ext3"));
 * assert.equal(image.reader.superblock.blocksCount * image.reader.blockSize, 8 << 20);
 * await image.close(); // removes the spooled copy
 * ```
 */
export async function openImageStream(
  source: AsyncIterable<Uint8Array>,
  options: OpenImageOptions = {},
): Promise<OpenedImage> {
  const dir = await mkdtemp(join(tmpdir(), "ext3fs-spool-"));
  try {
    const spool = join(dir, "image");
    const fd = openSync(spool, "wx", 0o600);
    try {
      await writeToFd(source, fd, { positional: true, sparse: true });
    } finally {
      closeSync(fd);
    }
    const opened = await openImageFile(spool, options);
    return {
      ...opened,
      close: async () => {
        try {
          await opened.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
