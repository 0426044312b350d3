import type { BlockDevice } from "@bigfile/blockdev";
import type { CoreInspection } from "@bigfile/grub-mbr";
import { lzmaDecodeRaw } from "./_lzma.ts";

/** Where GRUB's core.img looks for its modules and grub.cfg. */
export interface GrubPrefix {
  /** The prefix as stored: `(hd0,msdos1)/boot/grub`. */
  prefix: string;
  /** The device part without parentheses (`hd0,msdos1`), when there is one. */
  device?: string;
  /** The partition number it names (GRUB counts from 1, logical ones from 5). */
  partition?: number;
  /** The directory inside that partition's filesystem (`/boot/grub`). */
  path: string;
}

// lzma_decompress.img (the second sector of an i386-pc core.img) holds the
// compressed and uncompressed sizes of what follows it.
const COMPRESSED_SIZE = 0x08;
const UNCOMPRESSED_SIZE = 0x0c;
const MAX_UNCOMPRESSED = 16 << 20;
const MODULE_INFO_MAGIC = [0x6d, 0x69, 0x6d, 0x67]; // "mimg"
const OBJ_TYPE_PREFIX = 3;
// Debian's grub-pc-bin 2.06: 512 (diskboot.img) + 2848 (lzma_decompress.img).
const KNOWN_PAYLOAD_STARTS = [512 + 2848];

function u32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] as number) |
      ((bytes[offset + 1] as number) << 8) |
      ((bytes[offset + 2] as number) << 16) |
      ((bytes[offset + 3] as number) << 24)) >>>
    0
  );
}

/** Parses a GRUB prefix such as `(hd0,msdos1)/boot/grub`. */
export function parseGrubPrefix(prefix: string): GrubPrefix {
  const m = /^\(([^)]*)\)(.*)$/.exec(prefix);
  if (!m) return { prefix, path: prefix || "/" };
  const device = m[1] as string;
  const out: GrubPrefix = { prefix, device, path: (m[2] as string) || "/" };
  const parts = device.split(",");
  const last = parts.length > 1 ? parts.at(-1) : undefined;
  const number = last === undefined ? undefined : /^(?:msdos|gpt)?(\d+)$/.exec(last)?.[1];
  if (number !== undefined) out.partition = Number(number);
  return out;
}

/** Reads the bytes of core.img that boot.img's blocklists load. */
async function readCore(device: BlockDevice, core: CoreInspection): Promise<Uint8Array> {
  const total = core.sectors;
  const bytes = new Uint8Array(total * 512);
  bytes.set(await device.read(core.sector * 512, 512));
  let at = 512;
  for (const b of core.blocklists) {
    bytes.set(await device.read(b.start * 512, b.sectors * 512), at);
    at += b.sectors * 512;
  }
  return bytes;
}

/** The prefix in the module area; null when there is no module area (not a GRUB kernel). */
function findPrefix(kernel: Uint8Array): string | undefined | null {
  for (let i = 0; i + 12 <= kernel.length; i++) {
    if (
      kernel[i] !== MODULE_INFO_MAGIC[0] ||
      kernel[i + 1] !== MODULE_INFO_MAGIC[1] ||
      kernel[i + 2] !== MODULE_INFO_MAGIC[2] ||
      kernel[i + 3] !== MODULE_INFO_MAGIC[3]
    ) {
      continue;
    }
    const offset = u32(kernel, i + 4);
    const size = u32(kernel, i + 8);
    if (offset < 12 || offset > 64 || size < offset || i + size > kernel.length) continue;
    let at = i + offset;
    const end = i + size;
    while (at + 8 <= end) {
      const type = u32(kernel, at);
      const length = u32(kernel, at + 4);
      if (length < 8 || at + length > end) break;
      if (type === OBJ_TYPE_PREFIX) {
        const data = kernel.subarray(at + 8, at + length);
        const nul = data.indexOf(0);
        return new TextDecoder().decode(nul < 0 ? data : data.subarray(0, nul));
      }
      at += length;
    }
    if (at === end) return undefined;
  }
  return null;
}

/**
 * Reads the prefix compiled into a GRUB 2 i386-pc core.img (inside its
 * LZMA-compressed part). Returns undefined when the core holds none (GRUB
 * then uses the partition it was installed for). Throws `RangeError` when
 * the core cannot be decoded.
 */
export async function readGrubPrefix(
  device: BlockDevice,
  core: CoreInspection,
): Promise<GrubPrefix | undefined> {
  if (core.sectors < 2) throw new RangeError("core.img has no decompressor sector");
  const bytes = await readCore(device, core);
  const compressed = u32(bytes, 512 + COMPRESSED_SIZE);
  const uncompressed = u32(bytes, 512 + UNCOMPRESSED_SIZE);
  if (compressed === 0 || compressed > bytes.length || uncompressed > MAX_UNCOMPRESSED) {
    throw new RangeError(
      `core.img's sizes do not fit (${compressed} bytes compressed, ${uncompressed} uncompressed, ${bytes.length} loaded)`,
    );
  }
  // The compressed part ends core.img: exactly known with Reed-Solomon
  // parity; otherwise near the last non-zero byte (sector padding follows).
  const starts = new Set<number>();
  if (core.coreBytes !== undefined) starts.add(core.coreBytes - compressed);
  let last = bytes.length;
  while (last > 0 && bytes[last - 1] === 0) last--;
  for (let end = last; end <= Math.min(bytes.length, last + 16); end++)
    starts.add(end - compressed);
  for (const start of KNOWN_PAYLOAD_STARTS) starts.add(start);
  let problem = "no candidate start";
  for (const start of starts) {
    if (start < 1024 || start + 5 > bytes.length || bytes[start] !== 0) continue;
    try {
      const kernel = lzmaDecodeRaw(bytes.subarray(start), uncompressed);
      const prefix = findPrefix(kernel);
      if (prefix === null) {
        problem = "no module area in the decompressed kernel";
        continue;
      }
      return prefix === undefined ? undefined : parseGrubPrefix(prefix);
    } catch (error) {
      problem = (error as Error).message;
    }
  }
  throw new RangeError(`Cannot decode core.img: ${problem}`);
}
