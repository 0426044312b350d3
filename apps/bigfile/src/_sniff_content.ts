import type { BlockDevice } from "@bigfile/blockdev";

function hasText(bytes: Uint8Array, at: number, ascii: string): boolean {
  if (at + ascii.length > bytes.length) return false;
  for (let i = 0; i < ascii.length; i++) if (bytes[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/** Names the content of a volume without an ext filesystem, as blkid would. */
export async function sniffContent(
  disk: BlockDevice,
  offset: number,
  length: number,
): Promise<string> {
  const size = Math.min(length, disk.size - offset, 0x10048);
  if (size <= 0) return "empty";
  const head = await disk.read(offset, size);
  if (head.every((b) => b === 0)) return "empty";
  if (hasText(head, 3, "NTFS    ")) return "ntfs";
  if (hasText(head, 0x36, "FAT") || hasText(head, 0x52, "FAT32")) return "vfat";
  if (hasText(head, 4086, "SWAPSPACE2") || hasText(head, 4086, "SWAP-SPACE")) return "swap";
  if (hasText(head, 0, "XFSB")) return "xfs";
  if (hasText(head, 0, "LUKS\xba\xbe")) return "crypto_LUKS";
  if (hasText(head, 0x218, "LVM2 001")) return "LVM2_member";
  if (hasText(head, 0x10040, "_BHRfS_M")) return "btrfs";
  if (hasText(head, 0x8001, "CD001")) return "iso9660";
  return "unknown";
}
