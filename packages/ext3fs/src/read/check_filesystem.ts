import { crc32c, le32 } from "../format/_crc32c.ts";
import { checkHtree, leafChecksumProblem } from "./_check_htree.ts";
import { type QuotaUsage, readQuotaFile } from "./_check_quota.ts";
import {
  bitmapChecksumOk,
  checksumSeed,
  groupChecksum,
  inodeChecksumOk,
  superblockChecksumOk,
  wideBitmapChecksums,
} from "./_checksums.ts";
import { type DirentFault, parseDirBlock } from "./_decode_dirent.ts";
import { BG_BLOCK_UNINIT, BG_INODE_UNINIT, type ReaderGroup } from "./_decode_group.ts";
import {
  decodeReaderInode,
  EXTENTS_FL,
  INDEX_FL,
  INLINE_DATA_FL,
  type ReaderInode,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
} from "./_decode_inode.ts";
import type { ReaderJournalSuperblock } from "./_decode_journal.ts";
import { groupCount } from "./_decode_superblock.ts";
import {
  COMPAT_DIR_INDEX,
  INCOMPAT_64BIT,
  INCOMPAT_FLEX_BG,
  INCOMPAT_INLINE_DATA,
  INCOMPAT_LARGE_DIR,
  INCOMPAT_META_BG,
  INCOMPAT_RECOVER,
  RO_COMPAT_DIR_NLINK,
  RO_COMPAT_HUGE_FILE,
  RO_COMPAT_METADATA_CSUM,
  RO_COMPAT_QUOTA,
} from "./_features.ts";
import { descriptorBlock, groupHasSuperblock } from "./_layout.ts";
import { eaInodeValueSizes, inlineDataTail } from "./_xattrs.ts";
import { ExtCorruptionError, ExtUnsupportedError } from "./errors.ts";
import { type FilesystemReader, fileTypeOfMode, ROOT_INO } from "./filesystem_reader.ts";

/**
 * How much a finding matters: an `error` is what e2fsck would change in the
 * filesystem; a `note` is worth knowing but not damage (a journal e2fsck
 * would replay, a filesystem not cleanly unmounted, a superblock summary
 * count the kernel recomputes).
 */
export type CheckSeverity = "error" | "note";

/** Inode flag: fs-verity. */
const VERITY_FL = 0x100000;
/** Inode flag: the inode holds an extended attribute's value (ea_inode). */
const EA_INODE_FL = 0x200000;

/** What walking an inode's map found: blocks mapped, the last one, the last initialized one. */
interface MapFacts {
  blocks: number;
  lastBlock: number;
  lastInit: number;
}

/** One problem found by {@linkcode checkFilesystem}. */
export interface CheckFinding {
  /** A stable identifier: "free-blocks-count", "block-bitmap", "doubly-owned-block", ... */
  code: string;
  /** Whether it makes the filesystem unclean. */
  severity: CheckSeverity;
  /** One sentence saying what is wrong. */
  message: string;
  /** Byte offset in the image of the structure concerned, when known. */
  offset?: number;
}

/** The result of {@linkcode checkFilesystem}. */
export interface CheckReport {
  /** No finding of severity `error`. */
  clean: boolean;
  findings: CheckFinding[];
  /** Findings beyond `maxFindings` that were counted but not listed. */
  omitted: number;
  inodesUsed: number;
  blocksUsed: number;
  directories: number;
}

/** Options for {@linkcode checkFilesystem}. */
export interface CheckOptions {
  /** List at most this many findings. @default 200 */
  maxFindings?: number;
}

const DIRENT_TYPE_OF_MODE: Record<number, number> = {
  [S_IFREG]: 1,
  [S_IFDIR]: 2,
  [S_IFCHR]: 3,
  [S_IFBLK]: 4,
  [S_IFIFO]: 5,
  [S_IFSOCK]: 6,
  [S_IFLNK]: 7,
};

class Bits {
  readonly bytes: Uint8Array;
  constructor(n: number) {
    this.bytes = new Uint8Array(Math.ceil(n / 8));
  }
  get(i: number): boolean {
    return ((this.bytes[i >>> 3] ?? 0) & (1 << (i & 7))) !== 0;
  }
  set(i: number): void {
    this.bytes[i >>> 3] = (this.bytes[i >>> 3] ?? 0) | (1 << (i & 7));
  }
}

function ranges(list: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < list.length; ) {
    let j = i;
    while (j + 1 < list.length && (list[j + 1] as number) === (list[j] as number) + 1) j++;
    parts.push(i === j ? `${list[i]}` : `${list[i]}-${list[j]}`);
    i = j + 1;
  }
  const text = parts.slice(0, 20).join(" ");
  return parts.length > 20 ? `${text} ... (${parts.length - 20} more ranges)` : text;
}

/**
 * A read-only structural check, in the spirit of `e2fsck -fn`: superblock
 * and group descriptors agree with what is counted, bitmaps match what the
 * inodes use, no block is owned twice, link counts and directories are
 * sound, and the journal needs no recovery. Metadata checksums are not
 * verified. Memory is one bit per block plus a few bytes per inode.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { checkFilesystem } from "@bigfile/ext3fs";
 * import { mkfs, openImageFile } from "@bigfile/ext3fs/node";
 * await mkdir("rootfs/boot", { recursive: true });
 * await writeFile("rootfs/boot/vmlinuz", "not really a kernel\n");
 * await writeToFile((await mkfs(["rootfs"], { size: 8 << 20, seed: "docs" })).chunks(), "root.ext3");
 * const image = await openImageFile("root.ext3");
 * const report = await checkFilesystem(image.reader);
 * for (const finding of report.findings) console.log(finding.message);
 * assert.equal(report.clean, true); // as e2fsck -fn would say
 * await image.close();
 * ```
 */
export async function checkFilesystem(
  fs: FilesystemReader,
  options: CheckOptions = {},
): Promise<CheckReport> {
  const sb = fs.superblock;
  const bs = sb.blockSize;
  const max = options.maxFindings ?? 200;
  const findings: CheckFinding[] = [];
  let omitted = 0;
  let errors = 0;
  const find = (
    code: string,
    message: string,
    offset?: number,
    severity: CheckSeverity = "error",
  ) => {
    if (severity === "error") errors++;
    if (findings.length >= max) omitted++;
    else
      findings.push(
        offset === undefined ? { code, severity, message } : { code, severity, message, offset },
      );
  };
  const note = (code: string, message: string, offset?: number) =>
    find(code, message, offset, "note");
  /** Reports the bits of a bitmap that say free for used (`plus`) or used for free (`minus`). */
  const bitmapMismatch = (
    what: "block" | "inode",
    g: number,
    plus: number[],
    minus: number[],
    offset: number,
  ) => {
    const code = `${what}-bitmap`;
    if (plus.length)
      find(
        code,
        `Group ${g}'s ${what} bitmap marks used ${what}s as free: ${ranges(plus)}`,
        offset,
      );
    if (minus.length)
      find(
        code,
        `Group ${g}'s ${what} bitmap marks free ${what}s as used: ${ranges(minus)}`,
        offset,
      );
  };
  const report = (): CheckReport => ({
    clean: errors === 0,
    findings,
    omitted,
    inodesUsed,
    blocksUsed,
    directories: dirCount,
  });
  let inodesUsed = 0;
  let blocksUsed = 0;
  let dirCount = 0;

  // Superblock state.
  if (!(sb.state & 1)) note("state", "The filesystem was not cleanly unmounted", 1024 + 58);
  // e2fsck -n reports errors the kernel recorded and exits 0 when it finds none itself.
  if (sb.state & 2) note("state", "The filesystem is marked as having errors", 1024 + 58);
  for (const [who, qino] of [
    ["user", sb.usrQuotaInum],
    ["group", sb.grpQuotaInum],
    ["project", sb.prjQuotaInum],
  ] as const) {
    if (
      qino !== 0 &&
      (qino > sb.inodesCount ||
        qino === 1 ||
        qino === ROOT_INO ||
        qino === 7 ||
        qino === sb.journalInum)
    )
      find("quota", `The ${who} quota inode number ${qino} is invalid`, 1024 + 0x240);
  }
  if (sb.lastOrphan !== 0)
    find(
      "orphans",
      `The orphan inode list is not empty (starts at inode ${sb.lastOrphan})`,
      1024 + 232,
    );
  if (sb.inodesCount * sb.inodeSize > sb.blocksCount * bs) {
    find(
      "inode-count",
      `${sb.inodesCount} inodes of ${sb.inodeSize} bytes cannot fit in the filesystem`,
      1024,
    );
    return report();
  }
  if (sb.freeBlocksCount > sb.blocksCount)
    note(
      "free-blocks-count",
      `The superblock's free block count ${sb.freeBlocksCount} exceeds the block count ${sb.blocksCount}`,
      1024 + 12,
    );

  // Features e2fsprogs does not know: e2fsck refuses the filesystem.
  const unknown = [
    ["compatible", sb.featureCompat & ~0x1e3f],
    ["incompatible", sb.featureIncompat & ~0x3e7de],
    ["read-only compatible", sb.featureRoCompat & ~0x1f77b],
  ] as const;
  for (const [kind, bits] of unknown)
    if (bits !== 0)
      find(
        "features",
        `The superblock has unknown ${kind} features 0x${(bits >>> 0).toString(16)}`,
        1024 + 92,
      );

  // metadata_csum: superblock and group descriptor checksums.
  const csumOn = (sb.featureRoCompat & RO_COMPAT_METADATA_CSUM) !== 0;
  const seed = csumOn ? checksumSeed(sb) : 0;
  if (csumOn) {
    if (!superblockChecksumOk(await fs.device.read(1024, 1024), sb)) {
      find(
        "superblock-checksum",
        "The superblock's checksum does not match its contents",
        1024 + 1020,
      );
    }
    const perDescBlock = bs / sb.descSize;
    for (let g = 0; g < fs.groups.length; g++) {
      const block = descriptorBlock(sb, g);
      const at = (g % perDescBlock) * sb.descSize;
      const desc = (await fs.readBlock(block)).subarray(at, at + sb.descSize);
      const stored = (desc[30] ?? 0) | ((desc[31] ?? 0) << 8);
      if (groupChecksum(seed, g, desc) !== stored) {
        // e2fsck -n reports this and goes on: the kernel recomputes it on mount.
        note(
          "group-checksum",
          `Group ${g}'s descriptor checksum does not match its contents`,
          block * bs + at + 30,
        );
      }
    }
  }

  // Journal.
  const journal = fs.journal;
  if (sb.featureIncompat & INCOMPAT_RECOVER)
    note("journal-recovery", "The journal needs recovery (needs_recovery is set)", 1024 + 96);
  if (journal?.problem) find("journal", `The journal cannot be read: ${journal.problem}`);
  else if (journal?.superblock && journal.superblock.start !== 0) {
    note(
      "journal-recovery",
      `The journal holds transactions to replay (start block ${journal.superblock.start})`,
    );
  }

  if (journal?.superblock && sb.journalInum !== 0) await checkJournalSuperblock(journal.superblock);

  const groups = groupCount(sb);
  const N = sb.blocksCount;
  const sharedBlocks = (sb.featureRoCompat & 0x4000) !== 0;
  const owned = new Bits(N);
  const owners = N <= 1 << 24 ? new Uint32Array(N) : undefined;
  const METADATA = 0xffffffff;
  const claim = (block: number, owner: number, what: string, offset?: number): boolean => {
    if (block < sb.firstDataBlock || block >= N) {
      find("block-range", `${what} block ${block} lies outside the filesystem`, offset);
      return false;
    }
    if (owned.get(block)) {
      const first = owners?.[block];
      // shared_blocks: files may share data blocks (never metadata's).
      if (sharedBlocks && owner !== METADATA && first !== undefined && first !== METADATA)
        return true;
      const by =
        first === undefined
          ? ""
          : first === METADATA
            ? " (already filesystem metadata)"
            : ` (already used by inode ${first})`;
      find("doubly-owned-block", `Block ${block} is claimed twice: by ${what}${by}`, block * bs);
      return false;
    }
    owned.set(block);
    if (owners) owners[block] = owner;
    blocksUsed++;
    return true;
  };

  // Group metadata: superblock copies, descriptors, reserved GDT, bitmaps, inode tables.
  const perBlock = bs / sb.descSize;
  const gdtBlocks = Math.ceil(groups / perBlock);
  const metaBg = (sb.featureIncompat & INCOMPAT_META_BG) !== 0;
  const oldGdt = metaBg ? Math.min(sb.firstMetaBg, gdtBlocks) : gdtBlocks;
  const tableBlocks = Math.ceil((sb.inodesPerGroup * sb.inodeSize) / bs);
  const flex = (sb.featureIncompat & INCOMPAT_FLEX_BG) !== 0;
  const groupStart = (g: number) => sb.firstDataBlock + g * sb.blocksPerGroup;
  const groupEnd = (g: number) => Math.min(groupStart(g) + sb.blocksPerGroup, N);
  for (let g = 0; g < groups; g++) {
    const start = groupStart(g);
    const hasSuper = groupHasSuperblock(sb, g);
    let at = start;
    if (hasSuper) {
      claim(at++, METADATA, `the superblock copy of group ${g}`);
      for (let i = 0; i < oldGdt; i++) claim(at++, METADATA, `group ${g}'s descriptor table`);
      for (let i = 0; i < sb.reservedGdtBlocks; i++)
        claim(at++, METADATA, `group ${g}'s reserved descriptor blocks`);
    }
    if (metaBg) {
      const mg = Math.floor(g / perBlock);
      const r = g % perBlock;
      if (mg >= sb.firstMetaBg && (r === 0 || r === 1 || r === perBlock - 1))
        claim(start + (hasSuper ? 1 : 0), METADATA, `meta group ${mg}'s descriptor block`);
    }
    const desc = fs.groups[g] as ReaderGroup;
    const inGroup = (b: number, n: number) => flex || (b >= start && b + n <= groupEnd(g));
    const place = (b: number, n: number, what: string, field: number) => {
      if (b < sb.firstDataBlock || b + n > N || b === 0) {
        find(
          "group-descriptor",
          `Group ${g}'s ${what} at block ${b} lies outside the filesystem`,
          desc.offset + field,
        );
        return false;
      }
      if (!inGroup(b, n))
        find(
          "group-descriptor",
          `Group ${g}'s ${what} at block ${b} lies outside its group (no flex_bg)`,
          desc.offset + field,
        );
      for (let i = 0; i < n; i++)
        claim(b + i, METADATA, `group ${g}'s ${what}`, desc.offset + field);
      return true;
    };
    place(desc.blockBitmap, 1, "block bitmap", 0);
    place(desc.inodeBitmap, 1, "inode bitmap", 4);
    place(desc.inodeTable, tableBlocks, "inode table", 8);
  }

  // Inodes: what is in use, which blocks each owns.
  const inodeType = new Uint8Array(sb.inodesCount + 1); // dirent type code of each used inode; 0 = unused
  const links = new Uint16Array(sb.inodesCount + 1);
  const refs = new Uint32Array(sb.inodesCount + 1);
  const usedPerGroup = new Uint32Array(groups);
  const dirsPerGroup = new Uint32Array(groups);
  const csum = (sb.featureRoCompat & (0x10 | 0x400)) !== 0;
  const hugeFile = (sb.featureRoCompat & RO_COMPAT_HUGE_FILE) !== 0;
  const apb = bs / 4;
  const maxIndirect = 12 + apb + apb * apb + apb * apb * apb;
  const directories: ReaderInode[] = [];
  const inlineData = (sb.featureIncompat & INCOMPAT_INLINE_DATA) !== 0;
  const largeDir = (sb.featureIncompat & INCOMPAT_LARGE_DIR) !== 0;
  const hurd = sb.creatorOs === 1;
  const extentMaxBytes = 2 ** (32 + Math.log2(bs)) - 1;
  const xattrChecked = new Set<number>();
  // Quota: what each user and group uses, to compare with the quota files.
  const quotaOn = (sb.featureRoCompat & RO_COMPAT_QUOTA) !== 0;
  const userUsage = new Map<number, QuotaUsage>();
  const groupUsage = new Map<number, QuotaUsage>();
  let countedBlocks = 0;
  const addUsage = (map: Map<number, QuotaUsage>, id: number, space: number) => {
    const known = map.get(id);
    if (known) {
      known.space += space;
      known.inodes++;
    } else map.set(id, { space, inodes: 1 });
  };
  const inodeSeed = (inode: ReaderInode): number =>
    crc32c(crc32c(seed, le32(inode.ino)), le32(inode.generation));
  const system = new Set(
    [sb.journalInum, sb.usrQuotaInum, sb.grpQuotaInum, sb.prjQuotaInum, sb.orphanFileInum].filter(
      (n) => n > 0,
    ),
  );
  const systemInodes = new Set<number>();
  const ea = new Set<number>();
  const ipg = sb.inodesPerGroup;
  for (let g = 0; g < groups; g++) {
    const desc = fs.groups[g] as ReaderGroup;
    if (csum && desc.flags & BG_INODE_UNINIT) continue;
    if (
      desc.inodeTable < sb.firstDataBlock ||
      desc.inodeTable + tableBlocks > N ||
      desc.inodeTable === 0
    )
      continue;
    const scan = csum ? Math.max(0, ipg - desc.itableUnused) : ipg;
    const step = Math.max(1, Math.floor((1 << 20) / sb.inodeSize));
    for (let first = 0; first < scan; first += step) {
      const count = Math.min(step, scan - first);
      const tableOffset = desc.inodeTable * bs + first * sb.inodeSize;
      const bytes = await fs.device.read(tableOffset, count * sb.inodeSize);
      for (let k = 0; k < count; k++) {
        const index = first + k;
        const ino = g * ipg + index + 1;
        const raw = bytes.subarray(k * sb.inodeSize, (k + 1) * sb.inodeSize);
        const inode = decodeReaderInode(raw, ino, tableOffset + k * sb.inodeSize, bs, hugeFile);
        const reserved = ino < sb.firstIno;
        const isSystem = system.has(ino);
        if (!reserved && !isSystem && inode.links === 0) continue;
        if (ino === 1) {
          await checkBadBlocksInode(inode, raw);
          continue;
        }
        if (reserved && inode.mode === 0) continue;
        if (csumOn && !inodeChecksumOk(seed, ino, raw)) {
          find(
            "inode-checksum",
            `Inode ${ino}'s checksum does not match its contents`,
            inode.offset + 0x7c,
          );
        }
        const rv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        if (
          rv.getUint32(112, true) !== 0 ||
          (!hurd && !(sb.featureIncompat & INCOMPAT_64BIT) && rv.getUint16(118, true) !== 0) ||
          (!hurd && !hugeFile && rv.getUint16(116, true) !== 0) ||
          (!largeDir && (inode.mode & S_IFMT) === S_IFDIR && rv.getUint32(108, true) !== 0)
        )
          find(
            "inode-fields",
            `Inode ${ino} has fields set that must be zero (fragment address, high words of i_blocks, of its xattr block, or of a directory's size)`,
            inode.offset + 108,
          );
        if (!reserved) {
          inodesUsed++;
          usedPerGroup[g] = (usedPerGroup[g] ?? 0) + 1;
        }
        if (isSystem || ((inode.mode & S_IFMT) === S_IFREG && inode.flags & EA_INODE_FL)) {
          // Journal, quota, orphan-file and xattr-value inodes: blocks owned, no directory entry.
          if (!reserved) systemInodes.add(ino);
        } else if (!reserved || ino === ROOT_INO) {
          if (ino === ROOT_INO) {
            inodesUsed++;
            usedPerGroup[g] = (usedPerGroup[g] ?? 0) + 1;
          }
          inodeType[ino] = DIRENT_TYPE_OF_MODE[inode.mode & S_IFMT] ?? 0xff;
          links[ino] = inode.links;
          if (inode.dtime !== 0)
            find(
              "inode-dtime",
              `Inode ${ino} is in use but has a deletion time`,
              inode.offset + 20,
            );
        }
        const type = inode.mode & S_IFMT;
        if (inode.flags & EXTENTS_FL && (inode.block[6] ?? 0) + ((inode.block[7] ?? 0) << 8) > 5)
          note(
            "extent",
            `Inode ${ino}'s extent tree is deeper than 5 levels (it could be shallower)`,
            inode.offset + 46,
          );
        if (inode.flags & INLINE_DATA_FL && !inlineData) {
          find(
            "inode-flags",
            `Inode ${ino} has the inline_data flag on a filesystem without inline_data`,
            inode.offset + 32,
          );
          continue;
        }
        if (inode.flags & INDEX_FL && !(sb.featureCompat & COMPAT_DIR_INDEX) && type === S_IFDIR)
          find(
            "inode-flags",
            `Directory inode ${ino} is hash-indexed on a filesystem without dir_index`,
            inode.offset + 32,
          );
        if (type === S_IFDIR) {
          dirsPerGroup[g] = (dirsPerGroup[g] ?? 0) + 1;
          if (!reserved || ino === ROOT_INO) directories.push(inode);
          if (inode.size % bs !== 0 && !(inode.flags & INLINE_DATA_FL))
            find(
              "directory-size",
              `Directory inode ${ino} has size ${inode.size}, not a multiple of the block size`,
              inode.offset + 4,
            );
        }
        countedBlocks = 0;
        // Values kept in their own inodes count towards the inode that names them, as e2fsck counts.
        let extra = 0;
        // Counted whether or not the feature is set, as e2fsck counts.
        for (const size of await eaInodeValueSizes(inode, raw, (b) => fs.readBlock(b), N))
          extra += Math.ceil(size / bs) * (bs / 512);
        const mapped = await claimInodeBlocks(inode, type, extra);
        if (
          quotaOn &&
          (ino === ROOT_INO || !reserved) &&
          !isSystem &&
          !(inode.flags & EA_INODE_FL)
        ) {
          addUsage(userUsage, inode.uid, countedBlocks * 512);
          addUsage(groupUsage, inode.gid, countedBlocks * 512);
        }
        if (mapped) checkSize(inode, type, mapped);
        if (type === S_IFLNK && !reserved) await checkSymlink(inode);
        if (csumOn && inode.fileAcl !== 0 && !xattrChecked.has(inode.fileAcl)) {
          xattrChecked.add(inode.fileAcl);
          await checkXattrBlock(inode);
        }
      }
    }
  }

  /** e2fsck's size rules: no initialized block past EOF, within what the map addresses, directories whole blocks. */
  function checkSize(inode: ReaderInode, type: number, mapped: MapFacts): void {
    const ino = inode.ino;
    if (type === S_IFDIR) {
      if (inode.size % bs !== 0) return; // Reported above.
      const nblock = inode.size / bs;
      if (mapped.blocks === 0 && !(inode.flags & INLINE_DATA_FL))
        find("directory-empty", `Directory inode ${ino} has no blocks`, inode.offset + 4);
      else if (
        nblock > mapped.lastBlock + 1 ||
        mapped.lastBlock + 1 - nblock > sb.preallocDirBlocks
      )
        find(
          "inode-size",
          `Directory inode ${ino} has size ${inode.size}, its blocks end at ${(mapped.lastBlock + 1) * bs}`,
          inode.offset + 4,
        );
      return;
    }
    if (type !== S_IFREG) return;
    // fs-verity keeps its Merkle tree past EOF.
    if (mapped.lastInit >= 0 && inode.size < mapped.lastInit * bs && !(inode.flags & VERITY_FL))
      find(
        "inode-size",
        `Inode ${ino} has size ${inode.size} but a block at file block ${mapped.lastInit} (blocks past EOF)`,
        inode.offset + 4,
      );
    else if (inode.size > (inode.flags & EXTENTS_FL ? extentMaxBytes : maxIndirect * bs))
      find(
        "inode-size",
        `Inode ${ino} has size ${inode.size}, more than its block map can address`,
        inode.offset + 4,
      );
  }

  /** e2fsck's symlink rules: a fast one's text fills exactly its size; a slow one has one block. */
  async function checkSymlink(inode: ReaderInode): Promise<void> {
    const ino = inode.ino;
    const bad = (why: string) =>
      find("symlink", `Symlink inode ${ino} is invalid: ${why}`, inode.offset + 4);
    if (inode.flags & INLINE_DATA_FL) return;
    if (inode.size === 0 || inode.size >= 2 ** 32) return bad(`its size is ${inode.size}`);
    if (inode.flags & INDEX_FL) return bad("it has the hash-index flag");
    let text: Uint8Array;
    if (inode.size < 60) {
      if (inode.flags & EXTENTS_FL) return bad("a fast symlink with the extents flag");
      text = inode.block;
    } else {
      const view = new DataView(inode.block.buffer, inode.block.byteOffset, 60);
      let block: number;
      if (inode.flags & EXTENTS_FL) {
        const entries = view.getUint16(2, true);
        const depth = view.getUint16(6, true);
        const start = view.getUint32(12, true);
        const length = view.getUint16(16, true);
        if (
          view.getUint16(0, true) !== 0xf30a ||
          entries !== 1 ||
          depth !== 0 ||
          start !== 0 ||
          length !== 1
        )
          return bad("its extent tree is not one block");
        block = view.getUint16(18, true) * 2 ** 32 + view.getUint32(20, true);
      } else {
        block = view.getUint32(0, true);
        for (let i = 1; i < 15; i++)
          if (view.getUint32(i * 4, true) !== 0) return bad("it maps more than one block");
      }
      if (block < sb.firstDataBlock || block >= N) return bad(`its block ${block} is out of range`);
      text = await fs.readBlock(block);
    }
    const nul = text.indexOf(0);
    const length = nul < 0 ? text.length : nul;
    if (length >= text.length) return bad("its target has no terminating NUL");
    if (length !== inode.size)
      return bad(`its target holds ${length} bytes, its size says ${inode.size}`);
  }

  /** The bad-blocks inode: no mode, owner or links, and only blocks inside the filesystem. */
  async function checkBadBlocksInode(inode: ReaderInode, raw: Uint8Array): Promise<void> {
    if (
      (csumOn && !inodeChecksumOk(seed, 1, raw) && inode.blocks512 !== 0) ||
      inode.mode !== 0 ||
      inode.uid !== 0 ||
      inode.gid !== 0 ||
      inode.links !== 0 ||
      inode.flags & INLINE_DATA_FL ||
      inode.fileAcl !== 0
    ) {
      find("bad-blocks-inode", "The bad-blocks inode (1) looks invalid", inode.offset);
      return;
    }
    const view = new DataView(inode.block.buffer, inode.block.byteOffset, 60);
    let any = false;
    for (let i = 0; i < 15; i++) if (view.getUint32(i * 4, true) !== 0) any = true;
    if (!any) return;
    const regular = { ...inode, mode: S_IFREG, flags: inode.flags & ~EXTENTS_FL };
    try {
      for await (const run of fs.runs(regular, maxIndirect, (block) =>
        claim(block, 1, "the bad-blocks inode's block map"),
      ))
        for (let i = 0; i < run.length; i++) claim(run.physical + i, 1, "the bad-blocks inode");
    } catch (error) {
      if (!(error instanceof ExtCorruptionError)) throw error;
      find(
        "bad-blocks-inode",
        `The bad-blocks inode has illegal blocks: ${error.message}`,
        error.offset,
      );
    }
  }

  /** An xattr block's checksum (metadata_csum): CRC over its number and its bytes, checksum field zeroed. */
  async function checkXattrBlock(inode: ReaderInode): Promise<void> {
    const block = inode.fileAcl;
    if (block < sb.firstDataBlock || block >= N) return;
    const bytes = (await fs.readBlock(block)).slice();
    const v = new DataView(bytes.buffer);
    if (v.getUint32(0, true) !== 0xea020000) return;
    const stored = v.getUint32(16, true);
    v.setUint32(16, 0, true);
    const number = new Uint8Array(8);
    new DataView(number.buffer).setUint32(0, block, true);
    if (crc32c(crc32c(seed, number), bytes) !== stored)
      find(
        "xattr-checksum",
        `Inode ${inode.ino}'s extended attribute block ${block} fails its checksum`,
        block * bs + 16,
      );
  }

  async function claimInodeBlocks(
    inode: ReaderInode,
    type: number,
    extra = 0,
  ): Promise<MapFacts | undefined> {
    const ino = inode.ino;
    let counted = extra;
    if (ino === 7) {
      // The resize inode: its double-indirect block; the reserved GDT blocks it lists are counted above.
      const dind = new DataView(inode.block.buffer, inode.block.byteOffset, 60).getUint32(
        13 * 4,
        true,
      );
      if (dind !== 0) claim(dind, 7, "the resize inode", inode.offset + 40 + 52);
      return undefined;
    }
    if (inode.fileAcl !== 0) {
      if (!ea.has(inode.fileAcl)) {
        ea.add(inode.fileAcl);
        claim(inode.fileAcl, ino, `inode ${ino}'s extended attribute block`, inode.offset + 104);
      }
      counted += bs / 512;
    }
    countedBlocks = counted;
    const hasMap =
      type === S_IFREG ||
      type === S_IFDIR ||
      (type === S_IFLNK &&
        !(inode.size < 60 && !(inode.flags & EXTENTS_FL) && inode.blocks512 - counted <= 0));
    if (hasMap && !(inode.flags & 0x10000000)) {
      const limit = inode.flags & EXTENTS_FL ? 2 ** 32 : maxIndirect;
      const facts: MapFacts = { blocks: 0, lastBlock: -1, lastInit: -1 };
      const extentBlocks: number[] = [];
      try {
        for await (const run of fs.runs(
          inode,
          limit,
          (block) => {
            counted += bs / 512;
            if (inode.flags & EXTENTS_FL) extentBlocks.push(block);
            claim(block, ino, `inode ${ino}'s block map`);
          },
          (message, offset) => find("extent", `Inode ${ino}: ${message}`, offset),
        )) {
          counted += (run.length * bs) / 512;
          facts.blocks += run.length;
          facts.lastBlock = Math.max(facts.lastBlock, run.logical + run.length - 1);
          if (!run.uninit) facts.lastInit = Math.max(facts.lastInit, run.logical + run.length - 1);
          for (let i = 0; i < run.length; i++) claim(run.physical + i, ino, `inode ${ino}`);
        }
      } catch (error) {
        if (!(error instanceof ExtCorruptionError)) throw error;
        find("block-map", error.message, error.offset);
        return undefined;
      }
      if (csumOn) {
        for (const block of extentBlocks) {
          const bytes = await fs.readBlock(block);
          const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          const tail = 12 + v.getUint16(4, true) * 12;
          if (tail + 4 > bs) continue;
          if (crc32c(inodeSeed(inode), bytes.subarray(0, tail)) !== v.getUint32(tail, true))
            find(
              "extent-checksum",
              `Inode ${ino}'s extent tree block ${block} fails its checksum`,
              block * bs + tail,
            );
        }
      }
      countedBlocks = counted;
      if (counted !== inode.blocks512 && !hurd) {
        find(
          "inode-blocks",
          `Inode ${ino} says it uses ${inode.blocks512} 512-byte sectors, counted ${counted}`,
          inode.offset + 28,
        );
      }
      return facts;
    }
    return undefined;
  }

  /** The journal superblock's fields, as e2fsck checks them before it trusts the journal. */
  async function checkJournalSuperblock(jsb: ReaderJournalSuperblock): Promise<void> {
    let inode: ReaderInode;
    let first: IteratorResult<{ physical: number }>;
    try {
      inode = await fs.inode(sb.journalInum);
      first = await fs.runs(inode, 1).next();
    } catch (error) {
      if (!(error instanceof ExtCorruptionError)) throw error;
      find("journal", `The journal inode cannot be mapped: ${error.message}`, error.offset);
      return;
    }
    if (first.done) return;
    const at = first.value.physical * bs;
    const corrupt = (why: string, field: number) =>
      find("journal-superblock", `The journal superblock is corrupt: ${why}`, at + field);
    const blocks = Math.floor(inode.size / bs);
    const csum23 = jsb.featureIncompat & (0x8 | 0x10);
    if (jsb.blockType === 3) {
      if (jsb.featureCompat || jsb.featureIncompat || jsb.featureRoCompat || jsb.nrUsers)
        corrupt("a version 1 superblock with version 2 fields set", 0x24);
      return;
    }
    if (jsb.blockType !== 4)
      return corrupt(`block type ${jsb.blockType} is not a JBD2 superblock`, 4);
    if (jsb.nrUsers > 1) return corrupt(`${jsb.nrUsers} users of an internal journal`, 0x40);
    if (jsb.featureIncompat & ~0x3f) return corrupt("it has unknown incompatible features", 0x28);
    if (jsb.featureRoCompat) return corrupt("it has unknown read-only features", 0x2c);
    if ((jsb.featureIncompat & 0x18) === 0x18)
      return corrupt("both checksum versions 2 and 3", 0x28);
    if (csum23 && jsb.featureCompat & 0x1)
      return corrupt("checksum versions 1 and 2/3 together", 0x24);
    if (jsb.blockSize !== bs)
      return corrupt(`block size ${jsb.blockSize}, the filesystem's is ${bs}`, 12);
    if (jsb.maxLen > blocks)
      return corrupt(`length ${jsb.maxLen} blocks, the journal inode holds ${blocks}`, 16);
    if (jsb.blockType === 4 && jsb.featureIncompat & (0x8 | 0x10)) {
      const raw = (await fs.readBlock(first.value.physical)).slice(0, 1024);
      const v = new DataView(raw.buffer);
      const stored = v.getUint32(0xfc, false);
      v.setUint32(0xfc, 0, false);
      if (crc32c(0xffffffff, raw) !== stored) corrupt("its checksum does not match", 0xfc);
    }
  }

  /** Compares a quota file with the usage counted from the inodes, as e2fsck does. */
  async function checkQuota(type: 0 | 1, counted: Map<number, QuotaUsage>): Promise<void> {
    const qino = type === 0 ? sb.usrQuotaInum : sb.grpQuotaInum;
    const who = type === 0 ? "user" : "group";
    if (qino === 0 || qino > sb.inodesCount) return;
    let recorded: Map<number, QuotaUsage> | string;
    try {
      const inode = await fs.inode(qino);
      if ((inode.mode & S_IFMT) !== S_IFREG) {
        find("quota", `The ${who} quota inode ${qino} is not a regular file`, inode.offset);
        return;
      }
      if (inode.size > 64 << 20) {
        find(
          "quota",
          `The ${who} quota file is ${inode.size} bytes, too large to be sound`,
          inode.offset + 4,
        );
        return;
      }
      const parts: Uint8Array[] = [];
      for await (const chunk of fs.fileChunks(inode)) parts.push(chunk);
      const bytes = new Uint8Array(inode.size);
      let at = 0;
      for (const part of parts) {
        bytes.set(part, at);
        at += part.length;
      }
      recorded = readQuotaFile(bytes, type);
    } catch (error) {
      if (!(error instanceof ExtCorruptionError || error instanceof ExtUnsupportedError))
        throw error;
      recorded = error.message;
    }
    if (typeof recorded === "string") {
      find("quota", `The ${who} quota file cannot be read: ${recorded}`);
      return;
    }
    const ids = new Set([...counted.keys(), ...recorded.keys()]);
    let wrong = 0;
    for (const id of [...ids].sort((a, b) => a - b)) {
      const have = counted.get(id) ?? { space: 0, inodes: 0 };
      const says = recorded.get(id) ?? { space: 0, inodes: 0 };
      if (have.space === says.space && have.inodes === says.inodes) continue;
      if (wrong++ < 5)
        find(
          "quota",
          `The ${who} quota of ID ${id} records ${says.space} bytes and ${says.inodes} inodes; counted ${have.space} and ${have.inodes}`,
        );
    }
  }

  // Directories: structure, references, parents.
  const parent = new Uint32Array(sb.inodesCount + 1);
  parent[ROOT_INO] = ROOT_INO;
  const rootType = inodeType[ROOT_INO];
  if (rootType !== 2) find("root", "The root inode is not a directory in use", undefined);
  const queue: number[] = rootType === 2 ? [ROOT_INO] : [];
  const byIno = new Map<number, ReaderInode>(directories.map((d) => [d.ino, d]));
  const seenDirs = new Set<number>();
  for (let head = 0; head < queue.length; head++) {
    const dirIno = queue[head] as number;
    if (seenDirs.has(dirIno)) continue;
    seenDirs.add(dirIno);
    dirCount++;
    const dir = byIno.get(dirIno);
    if (!dir) continue;
    const names = new Set<string>();
    let index = 0;
    const visit = (entry: { ino: number; name: string; fileType: number; offset: number }) => {
      const where = `Directory inode ${dirIno}, entry '${entry.name}'`;
      if (index === 0 && entry.name !== ".")
        find("directory-dot", `Directory inode ${dirIno} does not start with '.'`, entry.offset);
      if (index === 1 && entry.name !== "..")
        find(
          "directory-dotdot",
          `Directory inode ${dirIno} has no '..' as its second entry`,
          entry.offset,
        );
      index++;
      if (entry.ino > sb.inodesCount) {
        find("directory-entry", `${where}: inode ${entry.ino} is out of range`, entry.offset);
        return;
      }
      if (names.has(entry.name))
        find("directory-duplicate", `${where}: the name appears twice`, entry.offset);
      names.add(entry.name);
      if (entry.name === ".") {
        if (entry.ino !== dirIno)
          find("directory-dot", `${where}: '.' points to inode ${entry.ino}`, entry.offset);
        refs[entry.ino] = (refs[entry.ino] ?? 0) + 1;
        return;
      }
      if (entry.name === "..") {
        if (entry.ino !== parent[dirIno])
          find(
            "directory-dotdot",
            `${where}: '..' points to inode ${entry.ino}, the parent is ${parent[dirIno]}`,
            entry.offset,
          );
        refs[entry.ino] = (refs[entry.ino] ?? 0) + 1;
        return;
      }
      if (entry.ino < sb.firstIno) {
        find("directory-entry", `${where}: refers to reserved inode ${entry.ino}`, entry.offset);
        return;
      }
      const type = inodeType[entry.ino] ?? 0;
      if (type === 0 && systemInodes.has(entry.ino)) {
        note(
          "directory-entry",
          `${where}: refers to system or xattr-value inode ${entry.ino}`,
          entry.offset,
        );
        return;
      }
      if (type === 0) {
        find("directory-entry", `${where}: refers to unused inode ${entry.ino}`, entry.offset);
        return;
      }
      refs[entry.ino] = (refs[entry.ino] ?? 0) + 1;
      if (fs.hasFileType && entry.fileType !== type) {
        // An unknown (0) type is only filled in: e2fsck -n lets that pass.
        find(
          "directory-filetype",
          `${where}: file type ${entry.fileType} does not match inode ${entry.ino}'s mode (type ${type})`,
          entry.offset,
          entry.fileType === 0 ? "note" : "error",
        );
      }
      if (type === 2) {
        if (parent[entry.ino]) {
          find(
            "directory-parent",
            `${where}: directory inode ${entry.ino} already has a parent (${parent[entry.ino]})`,
            entry.offset,
          );
        } else {
          parent[entry.ino] = dirIno;
          queue.push(entry.ino);
        }
      }
    };
    if (dir.flags & INLINE_DATA_FL) {
      // inline_data: ".." is the first word of i_block, entries follow, more in system.data.
      const parentIno = new DataView(dir.block.buffer, dir.block.byteOffset, 60).getUint32(0, true);
      visit({ ino: dirIno, name: ".", fileType: 2, offset: dir.offset + 40 });
      visit({ ino: parentIno, name: "..", fileType: 2, offset: dir.offset + 40 });
      const within = dir.offset % bs;
      const raw = (await fs.readBlock(Math.floor(dir.offset / bs))).subarray(
        within,
        within + sb.inodeSize,
      );
      for (const [part, at] of [
        [dir.block.subarray(4, 60), dir.offset + 44],
        [inlineDataTail(dir, raw), dir.offset + 128],
      ] as const) {
        if (part.length === 0) continue;
        const parsed = parseDirBlock(part, at, fs.hasFileType);
        for (const entry of parsed.entries) visit(entry);
        if (parsed.fault)
          find(
            "directory-block",
            `Directory inode ${dirIno}: ${parsed.fault.message}`,
            parsed.fault.offset,
          );
      }
      continue;
    }
    // The directory's blocks in logical order (-1 for holes), then its index, then its entries.
    const logical: number[] = [];
    try {
      for await (const run of fs.runs(dir)) {
        if (logical.length + run.length > N) break;
        while (logical.length < run.logical) logical.push(-1);
        for (let i = 0; i < run.length; i++) logical.push(run.uninit ? -1 : run.physical + i);
      }
    } catch (error) {
      if (!(error instanceof ExtCorruptionError)) throw error;
    }
    let indexBlocks = new Set<number>();
    if (dir.flags & INDEX_FL && sb.featureCompat & COMPAT_DIR_INDEX && logical.length > 0) {
      indexBlocks = await checkHtree({
        ino: dirIno,
        blockSize: bs,
        blocks: logical,
        readBlock: (b) => fs.readBlock(b),
        hasFileType: fs.hasFileType,
        hashSeed: sb.hashSeed,
        unsignedHash: (sb.flags & 2) !== 0,
        largeDir: (sb.featureIncompat & INCOMPAT_LARGE_DIR) !== 0,
        csumSeed: csumOn ? inodeSeed(dir) : undefined,
        report: (message, offset) => find("htree", message, offset),
      });
    }
    for (let b = 0; b < logical.length; b++) {
      const block = logical[b] as number;
      if (block < 0) continue;
      const bytes = await fs.readBlock(block);
      if (csumOn && !indexBlocks.has(b)) {
        const problem = leafChecksumProblem(bytes, inodeSeed(dir));
        if (problem)
          find(
            "directory-checksum",
            `Directory inode ${dirIno}, block ${b}: ${problem}`,
            block * bs + bs - 4,
          );
      }
      const parsed: {
        entries: { ino: number; name: string; fileType: number; offset: number }[];
        fault?: DirentFault;
      } = parseDirBlock(bytes, block * bs, fs.hasFileType);
      for (const entry of parsed.entries) {
        // "." and ".." are NUL-terminated within their records.
        if ((entry.name === "." || entry.name === "..") && index < 2) {
          const nul = bytes[entry.offset - block * bs + 8 + entry.name.length];
          if (nul !== 0)
            find(
              "directory-dot",
              `Directory inode ${dirIno}: its '${entry.name}' entry is not NUL-terminated`,
              entry.offset,
            );
        }
        visit(entry);
      }
      if (parsed.fault)
        find(
          "directory-block",
          `Directory inode ${dirIno}: ${parsed.fault.message}`,
          parsed.fault.offset,
        );
    }
    if (index === 0)
      find("directory-empty", `Directory inode ${dirIno} has no entries`, dir.offset);
  }
  for (const dir of directories) {
    if (!seenDirs.has(dir.ino))
      find(
        "directory-unconnected",
        `Directory inode ${dir.ino} is not connected to the tree`,
        dir.offset,
      );
  }

  // Link counts.
  const dirNlink = (sb.featureRoCompat & RO_COMPAT_DIR_NLINK) !== 0;
  for (let ino = 1; ino <= sb.inodesCount; ino++) {
    const type = inodeType[ino] ?? 0;
    if (type === 0) continue;
    const counted = refs[ino] ?? 0;
    const stored = links[ino] ?? 0;
    if (counted === 0 && ino !== ROOT_INO) {
      find(
        "unattached-inode",
        `Inode ${ino} (${fileTypeOfMode(type === 2 ? S_IFDIR : 0)}) is in use but no directory entry refers to it`,
      );
      continue;
    }
    if (type === 2 && dirNlink && stored === 1 && counted > 65000) continue;
    if (counted !== stored)
      find(
        "link-count",
        `Inode ${ino} has link count ${stored}, but ${counted} directory entries refer to it`,
      );
  }

  if (quotaOn) {
    await checkQuota(0, userUsage);
    await checkQuota(1, groupUsage);
  }

  // Bitmaps and free counts.
  let freeBlocksTotal = 0;
  let freeInodesTotal = 0;
  for (let g = 0; g < groups; g++) {
    const desc = fs.groups[g] as ReaderGroup;
    const start = groupStart(g);
    const end = groupEnd(g);
    let used = 0;
    for (let b = start; b < end; b++) if (owned.get(b)) used++;
    const free = end - start - used;
    freeBlocksTotal += free;
    if (desc.freeBlocks !== free)
      find(
        "free-blocks-count",
        `Group ${g}'s free block count is ${desc.freeBlocks}, counted ${free}`,
        desc.offset + 12,
      );
    if (
      !(csum && desc.flags & BG_BLOCK_UNINIT) &&
      desc.blockBitmap >= sb.firstDataBlock &&
      desc.blockBitmap < N
    ) {
      const bitmap = await fs.readBlock(desc.blockBitmap);
      if (
        csumOn &&
        !bitmapChecksumOk(
          seed,
          bitmap,
          sb.clustersPerGroup / 8,
          desc.blockBitmapCsum,
          wideBitmapChecksums(sb),
        )
      ) {
        find(
          "block-bitmap-checksum",
          `Group ${g}'s block bitmap checksum does not match its contents`,
          desc.blockBitmap * bs,
        );
      }
      const plus: number[] = [];
      const minus: number[] = [];
      for (let b = start; b < end; b++) {
        const bit = ((bitmap[(b - start) >>> 3] ?? 0) >> ((b - start) & 7)) & 1;
        const want = owned.get(b);
        if (want && !bit) plus.push(b);
        if (!want && bit) minus.push(b);
      }
      bitmapMismatch("block", g, plus, minus, desc.blockBitmap * bs);
      let padding = 0;
      for (let bit = end - start; bit < 8 * bs; bit++)
        if (!(((bitmap[bit >>> 3] ?? 0) >> (bit & 7)) & 1)) padding++;
      if (padding)
        find(
          "block-bitmap-padding",
          `Group ${g}'s block bitmap has ${padding} clear padding bits past the group's end`,
          desc.blockBitmap * bs,
        );
    }
    // Reserved inodes (but the root, counted as used) may reach past group 0 when groups are small.
    const reservedHere = Math.max(0, Math.min((g + 1) * ipg, sb.firstIno - 1) - g * ipg);
    const rootHere = ROOT_INO > g * ipg && ROOT_INO <= (g + 1) * ipg ? 1 : 0;
    const freeInodes = ipg - (usedPerGroup[g] ?? 0) - (reservedHere - rootHere);
    freeInodesTotal += freeInodes;
    if (desc.freeInodes !== freeInodes)
      find(
        "free-inodes-count",
        `Group ${g}'s free inode count is ${desc.freeInodes}, counted ${freeInodes}`,
        desc.offset + 14,
      );
    if (desc.usedDirs !== (dirsPerGroup[g] ?? 0)) {
      find(
        "used-dirs-count",
        `Group ${g}'s directory count is ${desc.usedDirs}, counted ${dirsPerGroup[g] ?? 0}`,
        desc.offset + 16,
      );
    }
    if (
      !(csum && desc.flags & BG_INODE_UNINIT) &&
      desc.inodeBitmap >= sb.firstDataBlock &&
      desc.inodeBitmap < N
    ) {
      const bitmap = await fs.readBlock(desc.inodeBitmap);
      if (
        csumOn &&
        !bitmapChecksumOk(seed, bitmap, ipg / 8, desc.inodeBitmapCsum, wideBitmapChecksums(sb))
      ) {
        find(
          "inode-bitmap-checksum",
          `Group ${g}'s inode bitmap checksum does not match its contents`,
          desc.inodeBitmap * bs,
        );
      }
      const plus: number[] = [];
      const minus: number[] = [];
      for (let i = 0; i < ipg; i++) {
        const ino = g * ipg + i + 1;
        const bit = ((bitmap[i >>> 3] ?? 0) >> (i & 7)) & 1;
        const want = ino < sb.firstIno || (inodeType[ino] ?? 0) !== 0 || systemInodes.has(ino);
        if (want && !bit) plus.push(ino);
        if (!want && bit) minus.push(ino);
      }
      bitmapMismatch("inode", g, plus, minus, desc.inodeBitmap * bs);
      let padding = 0;
      for (let bit = ipg; bit < 8 * bs; bit++)
        if (!(((bitmap[bit >>> 3] ?? 0) >> (bit & 7)) & 1)) padding++;
      if (padding)
        find(
          "inode-bitmap-padding",
          `Group ${g}'s inode bitmap has ${padding} clear padding bits past the group's inodes`,
          desc.inodeBitmap * bs,
        );
    }
  }
  // e2fsck -n prints these and still exits 0: the kernel keeps them loosely.
  if (sb.freeBlocksCount !== freeBlocksTotal)
    note(
      "free-blocks-count",
      `The superblock's free block count is ${sb.freeBlocksCount}, counted ${freeBlocksTotal}`,
      1024 + 12,
    );
  if (sb.freeInodesCount !== freeInodesTotal)
    note(
      "free-inodes-count",
      `The superblock's free inode count is ${sb.freeInodesCount}, counted ${freeInodesTotal}`,
      1024 + 16,
    );
  return report();
}
