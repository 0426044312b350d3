import type { BlockDevice } from "@bigfile/blockdev";
import { StreamHead } from "./_stream_head.ts";
import {
  type CoreImageSource,
  type GrubInstallOptions,
  type GrubInstallPlan,
  type ImageWrite,
  planGrubInstall,
} from "./plan_grub_install.ts";

/**
 * Installs GRUB into a disk image in place: core.img's sectors first, then
 * sector 0 (so an interrupted install leaves the old boot code pointing at
 * what it pointed at before). Nothing is written when the plan refuses.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { installGrub, inspectBoot } from "@bigfile/grub-mbr";
 * import { readFile } from "node:fs/promises";
 * import { FileDevice, writeToFile } from "@bigfile/blockdev/node";
 * import { planWrap, wrapPartition } from "@bigfile/mbr";
 * import { buildCoreImage, findGrubDir } from "@bigfile/grub-mbr/node";
 * const grubDir = await findGrubDir(); // $GRUB_DIR or /usr/lib/grub/i386-pc (grub-pc-bin)
 * const bootImg = await readFile(`${grubDir}/boot.img`);
 * const coreImg = await buildCoreImage(grubDir); // grub-mkimage -O i386-pc ... biosdisk part_msdos ext2
 * // A disk with partition 1 at 1 MiB: a 2047-sector MBR gap to embed core.img in.
 * await writeToFile(wrapPartition(ReadableStream.from([new Uint8Array(8 << 20)]), planWrap({ partitionSize: 8 << 20 })), "disk.img");
 * const disk = await FileDevice.open("disk.img");
 * await installGrub(disk, bootImg, coreImg);
 * assert.equal((await inspectBoot(disk)).grub?.core.integrity, "intact");
 * await disk.close();
 * ```
 */
export async function installGrub(
  device: BlockDevice,
  bootImg: Uint8Array,
  coreImg: CoreImageSource,
  options: GrubInstallOptions = {},
): Promise<GrubInstallPlan> {
  const plan = await planGrubInstall(device, bootImg, coreImg, options);
  const last = plan.writes[plan.writes.length - 1] as ImageWrite;
  for (const w of plan.writes.slice(0, -1)) await device.write(w.offset, w.data);
  await device.flush();
  await device.write(last.offset, last.data);
  await device.flush();
  return plan;
}

/** Options for {@linkcode installGrubStream}. */
export interface GrubInstallStreamOptions extends GrubInstallOptions {
  /** The most bytes of the image's head held in memory to plan the install. @default 268435456 */
  headLimit?: number;
}

/** The plan and the patched image of {@linkcode installGrubStream}. */
export interface GrubInstallStream {
  plan: GrubInstallPlan;
  /** The whole image with sector 0 and the embedding area replaced. */
  output: AsyncIterable<Uint8Array>;
}

/**
 * Installs GRUB into an image flowing through: the head of the image (up to the
 * end of the embedding area) is held to plan the install, then the image comes
 * out with only sector 0 and core.img's sectors changed, the rest passed
 * through chunk by chunk. A refusal is thrown before any output. Logical
 * partitions are not walked (their EBRs may lie far beyond the head).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { readFile as readBytes } from "node:fs/promises";
 * import { readFile, writeToFile } from "@bigfile/blockdev/node";
 * import { planWrap, wrapPartition } from "@bigfile/mbr";
 * import { installGrubStream } from "@bigfile/grub-mbr";
 * import { buildCoreImage, findGrubDir } from "@bigfile/grub-mbr/node";
 * const grubDir = await findGrubDir();
 * const bootImg = await readBytes(`${grubDir}/boot.img`);
 * const coreImg = await buildCoreImage(grubDir);
 * await writeToFile(wrapPartition(ReadableStream.from([new Uint8Array(8 << 20)]), planWrap({ partitionSize: 8 << 20 })), "disk.img");
 * const { plan, output } = await installGrubStream(readFile("disk.img"), bootImg, coreImg);
 * await writeToFile(output, "booting.img");
 * assert.equal(plan.sectors[0], 1); // core.img right after sector 0
 * assert.equal((await readBytes("booting.img")).length, (await readBytes("disk.img")).length);
 * ```
 */
export async function installGrubStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  bootImg: Uint8Array,
  coreImg: CoreImageSource,
  options: GrubInstallStreamOptions = {},
): Promise<GrubInstallStream> {
  const head = new StreamHead(source, options.headLimit ?? 256 << 20);
  const plan = await planGrubInstall(head, bootImg, coreImg, { checkLogical: false, ...options });
  return { plan, output: patched(head, plan.writes) };
}

/** The held chunks and then the rest of the stream, with `writes` laid over them. */
async function* patched(head: StreamHead, writes: ImageWrite[]): AsyncGenerator<Uint8Array> {
  let position = 0;
  const apply = (chunk: Uint8Array): Uint8Array => {
    const end = position + chunk.length;
    let out = chunk;
    for (const w of writes) {
      const wEnd = w.offset + w.data.length;
      if (wEnd <= position || w.offset >= end) continue;
      if (out === chunk) out = chunk.slice();
      const from = Math.max(w.offset, position);
      const to = Math.min(wEnd, end);
      out.set(w.data.subarray(from - w.offset, to - w.offset), from - position);
    }
    position = end;
    return out;
  };
  while (head.chunks.length > 0) yield apply(head.chunks.shift() as Uint8Array);
  if (head.ended) return;
  while (true) {
    const next = await head.iterator.next();
    if (next.done) return;
    yield apply(next.value);
  }
}
