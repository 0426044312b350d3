/** The type bytes of extended partitions: 0x05 (CHS), 0x0F (LBA), 0x85 (Linux). */
export const EXTENDED_TYPES: readonly number[] = [0x05, 0x0f, 0x85];

/** The type byte of a protective MBR entry: the disk is partitioned with GPT. */
export const GPT_PROTECTIVE_TYPE = 0xee;

/** Whether a type byte marks an extended partition (05, 0F or 85). */
export function isExtendedType(type: number): boolean {
  return type === 0x05 || type === 0x0f || type === 0x85;
}

/** Names of the partition type bytes, as fdisk lists them. */
export const PARTITION_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, "Empty"],
  [0x01, "FAT12"],
  [0x02, "XENIX root"],
  [0x03, "XENIX usr"],
  [0x04, "FAT16 <32M"],
  [0x05, "Extended"],
  [0x06, "FAT16"],
  [0x07, "HPFS/NTFS/exFAT"],
  [0x08, "AIX"],
  [0x09, "AIX bootable"],
  [0x0a, "OS/2 Boot Manager"],
  [0x0b, "W95 FAT32"],
  [0x0c, "W95 FAT32 (LBA)"],
  [0x0e, "W95 FAT16 (LBA)"],
  [0x0f, "W95 Ext'd (LBA)"],
  [0x10, "OPUS"],
  [0x11, "Hidden FAT12"],
  [0x12, "Compaq diagnostics"],
  [0x14, "Hidden FAT16 <32M"],
  [0x16, "Hidden FAT16"],
  [0x17, "Hidden HPFS/NTFS"],
  [0x18, "AST SmartSleep"],
  [0x1b, "Hidden W95 FAT32"],
  [0x1c, "Hidden W95 FAT32 (LBA)"],
  [0x1e, "Hidden W95 FAT16 (LBA)"],
  [0x24, "NEC DOS"],
  [0x27, "Hidden NTFS WinRE"],
  [0x39, "Plan 9"],
  [0x3c, "PartitionMagic recovery"],
  [0x40, "Venix 80286"],
  [0x41, "PPC PReP Boot"],
  [0x42, "SFS"],
  [0x4d, "QNX4.x"],
  [0x4e, "QNX4.x 2nd part"],
  [0x4f, "QNX4.x 3rd part"],
  [0x50, "OnTrack DM"],
  [0x51, "OnTrack DM6 Aux1"],
  [0x52, "CP/M"],
  [0x53, "OnTrack DM6 Aux3"],
  [0x54, "OnTrackDM6"],
  [0x55, "EZ-Drive"],
  [0x56, "Golden Bow"],
  [0x5c, "Priam Edisk"],
  [0x61, "SpeedStor"],
  [0x63, "GNU HURD or SysV"],
  [0x64, "Novell Netware 286"],
  [0x65, "Novell Netware 386"],
  [0x70, "DiskSecure Multi-Boot"],
  [0x75, "PC/IX"],
  [0x80, "Old Minix"],
  [0x81, "Minix / old Linux"],
  [0x82, "Linux swap / Solaris"],
  [0x83, "Linux"],
  [0x84, "OS/2 hidden or Intel hibernation"],
  [0x85, "Linux extended"],
  [0x86, "NTFS volume set"],
  [0x87, "NTFS volume set"],
  [0x88, "Linux plaintext"],
  [0x8e, "Linux LVM"],
  [0x93, "Amoeba"],
  [0x94, "Amoeba BBT"],
  [0x9f, "BSD/OS"],
  [0xa0, "IBM Thinkpad hibernation"],
  [0xa5, "FreeBSD"],
  [0xa6, "OpenBSD"],
  [0xa7, "NeXTSTEP"],
  [0xa8, "Darwin UFS"],
  [0xa9, "NetBSD"],
  [0xab, "Darwin boot"],
  [0xaf, "HFS / HFS+"],
  [0xb7, "BSDI fs"],
  [0xb8, "BSDI swap"],
  [0xbb, "Boot Wizard hidden"],
  [0xbc, "Acronis FAT32 LBA"],
  [0xbe, "Solaris boot"],
  [0xbf, "Solaris"],
  [0xc1, "DRDOS/sec (FAT-12)"],
  [0xc4, "DRDOS/sec (FAT-16 < 32M)"],
  [0xc6, "DRDOS/sec (FAT-16)"],
  [0xc7, "Syrinx"],
  [0xda, "Non-FS data"],
  [0xdb, "CP/M / CTOS / ..."],
  [0xde, "Dell Utility"],
  [0xdf, "BootIt"],
  [0xe1, "DOS access"],
  [0xe3, "DOS R/O"],
  [0xe4, "SpeedStor"],
  [0xea, "Linux extended boot"],
  [0xeb, "BeOS fs"],
  [0xee, "GPT"],
  [0xef, "EFI (FAT-12/16/32)"],
  [0xf0, "Linux/PA-RISC boot"],
  [0xf1, "SpeedStor"],
  [0xf4, "SpeedStor"],
  [0xf2, "DOS secondary"],
  [0xfb, "VMware VMFS"],
  [0xfc, "VMware VMKCORE"],
  [0xfd, "Linux raid autodetect"],
  [0xfe, "LANstep"],
  [0xff, "BBT"],
]);

/**
 * The name fdisk shows for a partition type byte, or "Unknown".
 *
 * @example Usage
 * ```ts
 * import { partitionTypeName } from "@bigfile/mbr";
 * partitionTypeName(0x83); // "Linux"
 * ```
 */
export function partitionTypeName(type: number): string {
  return PARTITION_TYPE_NAMES.get(type) ?? "Unknown";
}

/** The one-letter type aliases sfdisk scripts accept. */
const ALIASES: Record<string, number> = {
  L: 0x83,
  S: 0x82,
  E: 0x05,
  X: 0x85,
  U: 0xef,
  R: 0xfd,
  V: 0x8e,
};

/**
 * Parses a partition type as sfdisk scripts write it: hex without prefix
 * (`83`, `f`), with `0x`, or an alias (`L` Linux, `S` swap, `E` extended,
 * `X` Linux extended, `U` EFI, `R` RAID, `V` LVM). Throws `SyntaxError`.
 *
 * @example Usage
 * ```ts
 * import { parsePartitionType } from "@bigfile/mbr";
 * parsePartitionType("83"); // 0x83
 * parsePartitionType("E"); // 0x05
 * ```
 */
export function parsePartitionType(text: string): number {
  const t = text.trim();
  const alias = ALIASES[t.toUpperCase()];
  if (alias !== undefined && t.length === 1) return alias;
  const m = /^(?:0x)?([0-9a-f]{1,2})$/i.exec(t);
  if (!m)
    throw new SyntaxError(
      `Cannot parse partition type '${text}': expected a hex byte like 83 or an alias (L, S, E, X, U, R, V)`,
    );
  return Number.parseInt(m[1] as string, 16);
}

/** Formats a type byte as sfdisk does: lower-case hex without padding (`83`, `f`). */
export function formatPartitionType(type: number): string {
  return type.toString(16);
}
