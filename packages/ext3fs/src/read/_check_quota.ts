// Quota files (the v2 tree format, "vfsv1") as e2fsck reads them to compare
// the usage they record with what the inodes use: a header, then 1 KiB
// blocks; block 1 is the root of a four-level tree indexed by the bytes of
// the id, whose leaves hold 72-byte records (id, limits, inodes, bytes).

/** What a quota file records for one id. */
export interface QuotaUsage {
  space: number;
  inodes: number;
}

const QT_BLOCK = 1024;
const LEAF_HEADER = 16;
const RECORD = 72;
const MAGICS = [0xd9c01f11, 0xd9c01927, 0xd9c03f14];

/**
 * The usage each id has in quota file `bytes` of quota type `type`
 * (0 user, 1 group, 2 project); a string says why it cannot be read.
 */
export function readQuotaFile(bytes: Uint8Array, type: number): Map<number, QuotaUsage> | string {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 2 * QT_BLOCK)
    return `it holds ${bytes.length} bytes, too few for a quota file`;
  const magic = v.getUint32(0, true);
  if (magic !== MAGICS[type]) return `its magic number is 0x${magic.toString(16)}`;
  if (v.getUint32(4, true) !== 1) return `its version is ${v.getUint32(4, true)}, not 1`;
  const blocks = Math.floor(bytes.length / QT_BLOCK);
  const usage = new Map<number, QuotaUsage>();
  const seen = new Set<number>();
  const walk = (block: number, depth: number): string | undefined => {
    if (block <= 0 || block >= blocks) return `a tree reference to block ${block} is out of range`;
    if (depth < 4) {
      for (let i = 0; i < 256; i++) {
        const ref = v.getUint32(block * QT_BLOCK + i * 4, true);
        if (ref === 0) continue;
        const problem = walk(ref, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    // Leaves are shared by ids that differ in their last byte: read each once.
    if (seen.has(block)) return undefined;
    seen.add(block);
    const base = block * QT_BLOCK;
    for (let i = 0; i < Math.floor((QT_BLOCK - LEAF_HEADER) / RECORD); i++) {
      const at = base + LEAF_HEADER + i * RECORD;
      const record = bytes.subarray(at, at + RECORD);
      if (record.every((b) => b === 0)) continue;
      const id = v.getUint32(at, true);
      const inodes = Number(v.getBigUint64(at + 24, true));
      const space = Number(v.getBigUint64(at + 48, true));
      usage.set(id, { space, inodes });
    }
    return undefined;
  };
  const problem = walk(1, 0);
  return problem ?? usage;
}
