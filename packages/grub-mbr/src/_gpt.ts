// A minimal GPT reader: the primary header and its entries, CRC-checked.

import { type ByteReader, hex, u32, u64 } from "./_reader.ts";
import { GrubInstallError } from "./grub_install_error.ts";

/** The BIOS boot partition type, 21686148-6449-6E6F-744E-656564454649. */
export const BIOS_BOOT_GUID = "21686148-6449-6E6F-744E-656564454649";

/** One used GPT entry. */
export interface GptEntry {
  /** 1-based index in the entry array. */
  number: number;
  typeGuid: string;
  firstLba: number;
  lastLba: number;
  name: string;
}

/** The primary GPT. */
export interface Gpt {
  firstUsableLba: number;
  lastUsableLba: number;
  entries: GptEntry[];
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as GPT uses). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++)
    c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A mixed-endian GUID as text. */
export function guidText(b: Uint8Array): string {
  const h = (i: number) => (b[i] as number).toString(16).padStart(2, "0");
  const le = (idx: number[]) => idx.map(h).join("");
  return `${le([3, 2, 1, 0])}-${le([5, 4])}-${le([7, 6])}-${le([8, 9])}-${le([10, 11, 12, 13, 14, 15])}`.toUpperCase();
}

/** Reads the primary GPT at LBA 1; throws {@linkcode GrubInstallError} if it is damaged. */
export async function readGpt(reader: ByteReader): Promise<Gpt> {
  const header = await reader.read(512, 512);
  if (new TextDecoder().decode(header.subarray(0, 8)) !== "EFI PART") {
    throw new GrubInstallError(
      "Cannot read GPT: sector 0 has a protective 0xEE entry but LBA 1 has no 'EFI PART' header",
      512,
    );
  }
  const headerSize = u32(header, 12);
  if (headerSize < 92 || headerSize > 512) {
    throw new GrubInstallError(
      `Cannot read GPT: header size ${headerSize} is out of range`,
      512 + 12,
    );
  }
  const copy = header.slice(0, headerSize);
  copy.fill(0, 16, 20);
  if (crc32(copy) !== u32(header, 16)) {
    throw new GrubInstallError(
      `Cannot read GPT: the header CRC is ${hex(u32(header, 16), 8)} but the header sums to ${hex(crc32(copy), 8)}`,
      512 + 16,
    );
  }
  const entriesLba = u64(header, 72);
  const count = u32(header, 80);
  const size = u32(header, 84);
  if (size < 128 || size % 8 !== 0 || count > 16384 || count * size > 4 << 20) {
    throw new GrubInstallError(
      `Cannot read GPT: ${count} entries of ${size} bytes is out of range`,
      512 + 80,
    );
  }
  const array = await reader.read(entriesLba * 512, count * size);
  if (crc32(array) !== u32(header, 88)) {
    throw new GrubInstallError(
      `Cannot read GPT: the partition entry array does not match its CRC ${hex(u32(header, 88), 8)}`,
      entriesLba * 512,
    );
  }
  const entries: GptEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e = array.subarray(i * size, (i + 1) * size);
    if (e.subarray(0, 16).every((b) => b === 0)) continue;
    const nameBytes = e.subarray(56, 128);
    let name = "";
    for (let k = 0; k + 1 < nameBytes.length; k += 2) {
      const c = (nameBytes[k] as number) | ((nameBytes[k + 1] as number) << 8);
      if (c === 0) break;
      name += String.fromCharCode(c);
    }
    entries.push({
      number: i + 1,
      typeGuid: guidText(e.subarray(0, 16)),
      firstLba: u64(e, 32),
      lastLba: u64(e, 40),
      name,
    });
  }
  return { firstUsableLba: u64(header, 40), lastUsableLba: u64(header, 48), entries };
}
