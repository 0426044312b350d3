import { formatUuid } from "../format/mod.ts";
import { groupCount } from "./_decode_superblock.ts";
import { featureNames } from "./_features.ts";
import type { FilesystemReader, ReaderStat, ReaderTime } from "./filesystem_reader.ts";

const TYPE_CHAR: Record<string, string> = {
  file: "-",
  directory: "d",
  symlink: "l",
  "char-device": "c",
  "block-device": "b",
  fifo: "p",
  socket: "s",
  unknown: "?",
};

/** `-rwxr-xr-x` for a mode and type. */
export function modeString(type: string, mode: number): string {
  const rwx = (bits: number, special: boolean, sChar: string) =>
    `${bits & 4 ? "r" : "-"}${bits & 2 ? "w" : "-"}${special ? (bits & 1 ? sChar : sChar.toUpperCase()) : bits & 1 ? "x" : "-"}`;
  return (
    (TYPE_CHAR[type] ?? "?") +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, "s") +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, "s") +
    rwx(mode & 7, (mode & 0o1000) !== 0, "t")
  );
}

/** ISO-like UTC time with nanoseconds. */
export function timeText(t: ReaderTime): string {
  const date = new Date(t.seconds * 1000);
  if (Number.isNaN(date.getTime())) return `@${t.seconds}`;
  return `${date.toISOString().slice(0, 19).replace("T", " ")}.${String(t.nanoseconds).padStart(9, "0")} UTC`;
}

/** A time as an ISO string (for JSON). */
export function isoTime(t: ReaderTime): string | number {
  const date = new Date(t.seconds * 1000 + Math.floor(t.nanoseconds / 1e6));
  return Number.isNaN(date.getTime()) ? t.seconds : date.toISOString();
}

function ctimeText(seconds: number): string {
  if (seconds === 0) return "n/a";
  const d = new Date(seconds * 1000);
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
  ];
  const p = (n: number) => String(n).padStart(2, "0");
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

const HASH = [
  "legacy",
  "half_md4",
  "tea",
  "legacy_unsigned",
  "half_md4_unsigned",
  "tea_unsigned",
  "siphash",
];
const OS = ["Linux", "Hurd", "Masix", "FreeBSD", "Lites"];
const ERRORS = ["", "Continue", "Remount read-only", "Panic"];

/** The superblock summary as a JSON-ready object. */
export function infoObject(fs: FilesystemReader): Record<string, unknown> {
  const sb = fs.superblock;
  const journal = fs.journal;
  const state = [
    sb.state & 1 ? "clean" : "not clean",
    ...(sb.state & 2 ? ["with errors"] : []),
  ].join(" ");
  const flags: string[] = [];
  if (sb.flags & 1) flags.push("signed_directory_hash");
  if (sb.flags & 2) flags.push("unsigned_directory_hash");
  if (sb.flags & 4) flags.push("test_filesystem");
  const mountOpts: string[] = [];
  const opts: [number, string][] = [
    [0x1, "debug"],
    [0x2, "bsdgroups"],
    [0x4, "user_xattr"],
    [0x8, "acl"],
    [0x10, "uid16"],
    [0x20, "journal_data"],
    [0x40, "journal_data_ordered"],
    [0x60, "journal_data_writeback"],
  ];
  for (const [bit, name] of opts)
    if (bit !== 0x60 && bit !== 0x20 && bit !== 0x40 && sb.defaultMountOpts & bit)
      mountOpts.push(name);
  const jm = sb.defaultMountOpts & 0x60;
  if (jm)
    mountOpts.push(
      jm === 0x20
        ? "journal_data"
        : jm === 0x40
          ? "journal_data_ordered"
          : "journal_data_writeback",
    );
  const out: Record<string, unknown> = {
    volumeName: nameText(sb.volumeName),
    lastMountedOn: nameText(sb.lastMounted),
    uuid: formatUuid(sb.uuid),
    magic: sb.magic,
    revision: sb.revLevel,
    features: featureNames(sb.featureCompat, sb.featureIncompat, sb.featureRoCompat),
    flags,
    defaultMountOptions: mountOpts,
    state,
    errorsBehavior: ERRORS[sb.errors] ?? `unknown (${sb.errors})`,
    osType: OS[sb.creatorOs] ?? `unknown (${sb.creatorOs})`,
    inodeCount: sb.inodesCount,
    blockCount: sb.blocksCount,
    reservedBlockCount: sb.rBlocksCount,
    freeBlocks: sb.freeBlocksCount,
    freeInodes: sb.freeInodesCount,
    firstBlock: sb.firstDataBlock,
    blockSize: sb.blockSize,
    groupDescriptorSize: sb.descSize,
    reservedGdtBlocks: sb.reservedGdtBlocks,
    blocksPerGroup: sb.blocksPerGroup,
    inodesPerGroup: sb.inodesPerGroup,
    inodeBlocksPerGroup: Math.ceil((sb.inodesPerGroup * sb.inodeSize) / sb.blockSize),
    groups: groupCount(sb),
    created: sb.mkfsTime,
    lastMountTime: sb.mtime,
    lastWriteTime: sb.wtime,
    mountCount: sb.mntCount,
    maximumMountCount: sb.maxMntCount,
    lastChecked: sb.lastcheck,
    checkInterval: sb.checkinterval,
    reservedBlocksUid: sb.defResuid,
    reservedBlocksGid: sb.defResgid,
    firstInode: sb.firstIno,
    inodeSize: sb.inodeSize,
    requiredExtraIsize: sb.minExtraIsize,
    desiredExtraIsize: sb.wantExtraIsize,
    journalInode: sb.journalInum,
    defaultDirectoryHash: HASH[sb.defHashVersion] ?? String(sb.defHashVersion),
    directoryHashSeed: formatUuid(hashSeedBytes(sb.hashSeed)),
  };
  if (journal) {
    out.journal = {
      inode: journal.inode,
      needsRecovery: journal.needsRecovery,
      ...(journal.superblock
        ? {
            blocks: journal.superblock.maxLen,
            blockSize: journal.superblock.blockSize,
            first: journal.superblock.first,
            sequence: journal.superblock.sequence,
            start: journal.superblock.start,
          }
        : {}),
      ...(journal.problem ? { problem: journal.problem } : {}),
    };
  }
  return out;
}

/** The superblock summary in `dumpe2fs -h`'s words. */
export function infoText(fs: FilesystemReader): string {
  const i = infoObject(fs);
  const sb = fs.superblock;
  const rows: [string, string | number][] = [
    ["Filesystem volume name", nameText(sb.volumeName) || "<none>"],
    ["Last mounted on", nameText(sb.lastMounted) || "<not available>"],
    ["Filesystem UUID", i.uuid as string],
    ["Filesystem magic number", `0x${sb.magic.toString(16).toUpperCase()}`],
    ["Filesystem revision #", `${sb.revLevel} (${sb.revLevel === 0 ? "original" : "dynamic"})`],
    ["Filesystem features", (i.features as string[]).join(" ") || "(none)"],
    ["Filesystem flags", (i.flags as string[]).join(" ")],
    ["Default mount options", (i.defaultMountOptions as string[]).join(" ") || "(none)"],
    ["Filesystem state", i.state as string],
    ["Errors behavior", i.errorsBehavior as string],
    ["Filesystem OS type", i.osType as string],
    ["Inode count", sb.inodesCount],
    ["Block count", sb.blocksCount],
    ["Reserved block count", sb.rBlocksCount],
    ["Free blocks", sb.freeBlocksCount],
    ["Free inodes", sb.freeInodesCount],
    ["First block", sb.firstDataBlock],
    ["Block size", sb.blockSize],
    ["Fragment size", sb.blockSize],
    ...(sb.featureIncompat & 0x80
      ? [["Group descriptor size", sb.descSize] as [string, number]]
      : []),
    ["Reserved GDT blocks", sb.reservedGdtBlocks],
    ["Blocks per group", sb.blocksPerGroup],
    ["Fragments per group", sb.blocksPerGroup],
    ["Inodes per group", sb.inodesPerGroup],
    ["Inode blocks per group", i.inodeBlocksPerGroup as number],
    ...(sb.featureIncompat & 0x200
      ? [["Flex block group size", 2 ** sb.logGroupsPerFlex] as [string, number]]
      : []),
    ["Filesystem created", ctimeText(sb.mkfsTime)],
    ["Last mount time", ctimeText(sb.mtime)],
    ["Last write time", ctimeText(sb.wtime)],
    ["Mount count", sb.mntCount],
    ["Maximum mount count", sb.maxMntCount],
    ["Last checked", ctimeText(sb.lastcheck)],
    [
      "Check interval",
      `${sb.checkinterval} (${sb.checkinterval === 0 ? "<none>" : `${sb.checkinterval} seconds`})`,
    ],
    ["Reserved blocks uid", sb.defResuid],
    ["Reserved blocks gid", sb.defResgid],
    ["First inode", sb.firstIno],
    ["Inode size", sb.inodeSize],
    ...(sb.inodeSize > 128
      ? [
          ["Required extra isize", sb.minExtraIsize] as [string, number],
          ["Desired extra isize", sb.wantExtraIsize] as [string, number],
        ]
      : []),
    ...(sb.featureCompat & 4 ? [["Journal inode", sb.journalInum] as [string, number]] : []),
    ["Default directory hash", i.defaultDirectoryHash as string],
    ["Directory Hash Seed", i.directoryHashSeed as string],
  ];
  const j = fs.journal;
  if (j?.superblock) {
    rows.push(
      ["Total journal blocks", j.superblock.maxLen],
      ["Journal sequence", `0x${j.superblock.sequence.toString(16).padStart(8, "0")}`],
      ["Journal start", j.superblock.start],
    );
  }
  if (j) rows.push(["Journal needs recovery", j.needsRecovery ? "yes" : "no"]);
  if (j?.problem) rows.push(["Journal problem", j.problem]);
  return `${rows.map(([label, value]) => `${`${label}:`.padEnd(26)}${value}`.trimEnd()).join("\n")}\n`;
}

/** One `ls -l` line. */
export function longLine(name: string, st: ReaderStat, target?: string): string {
  const d = new Date(st.mtime.seconds * 1000);
  const when = Number.isNaN(d.getTime())
    ? String(st.mtime.seconds)
    : d.toISOString().slice(0, 16).replace("T", " ");
  const size = st.rdev ? `${st.rdev.major}, ${st.rdev.minor}` : String(st.size);
  return `${modeString(st.type, st.mode)} ${String(st.links).padStart(3)} ${String(st.uid).padStart(5)} ${String(st.gid).padStart(5)} ${size.padStart(10)} ${when} ${name}${target !== undefined ? ` -> ${target}` : ""}`;
}

/** A NUL-trimmed name field as text (UTF-8, as e2fsprogs prints it). */
function nameText(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}

/** The hash seed's four little-endian words back as its 16 bytes. */
function hashSeedBytes(words: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) view.setUint32(i * 4, words[i] ?? 0, true);
  return bytes;
}
