import type { ReaderSuperblock } from "./_decode_superblock.ts";
import { INCOMPAT_META_BG, RO_COMPAT_SPARSE_SUPER } from "./_features.ts";

/** Whether group `g` holds a superblock backup. */
export function groupHasSuperblock(sb: ReaderSuperblock, g: number): boolean {
  if (g === 0) return true;
  if (sb.featureCompat & 0x200) return g === sb.backupBgs[0] || g === sb.backupBgs[1];
  if (!(sb.featureRoCompat & RO_COMPAT_SPARSE_SUPER)) return true;
  if (g === 1) return true;
  for (const base of [3, 5, 7]) {
    let n = base;
    while (n < g) n *= base;
    if (n === g) return true;
  }
  return false;
}

/** Block number of group `g`'s descriptor-table block holding descriptor `g`. */
export function descriptorBlock(sb: ReaderSuperblock, g: number): number {
  const perBlock = sb.blockSize / sb.descSize;
  const index = Math.floor(g / perBlock);
  if (!(sb.featureIncompat & INCOMPAT_META_BG) || index < sb.firstMetaBg)
    return sb.firstDataBlock + 1 + index;
  const first = index * perBlock;
  return sb.firstDataBlock + first * sb.blocksPerGroup + (groupHasSuperblock(sb, first) ? 1 : 0);
}
