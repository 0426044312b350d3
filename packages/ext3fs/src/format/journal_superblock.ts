import { viewOf } from "./_bytes.ts";
import { Jbd2 } from "./constants.ts";
import { ExtFormatError } from "./errors.ts";

/** The JBD2 journal superblock (big-endian, in journal block 0). */
export interface JournalSuperblock {
  magic: number;
  blocktype: number;
  sequence: number;
  blocksize: number;
  maxlen: number;
  first: number;
  /** First transaction's sequence number expected. */
  sSequence: number;
  /** Block of the first log record; 0 means the journal is empty. */
  start: number;
  errno: number;
  featureCompat: number;
  featureIncompat: number;
  featureRoCompat: number;
  uuid: Uint8Array;
  nrUsers: number;
  dynsuper: number;
  maxTransaction: number;
  maxTransData: number;
  checksumType: number;
  numFcBlocks: number;
  checksum: number;
  /** 16 bytes per user, `nrUsers` of them (at most 48). */
  users: Uint8Array;
}

/** Size of the JBD2 superblock structure. */
export const JOURNAL_SUPERBLOCK_SIZE = 1024;

/** Decodes a JBD2 superblock. @throws {ExtFormatError} on a bad magic. */
export function decodeJournalSuperblock(bytes: Uint8Array): JournalSuperblock {
  if (bytes.length < JOURNAL_SUPERBLOCK_SIZE) {
    throw new ExtFormatError(
      `Cannot parse journal superblock: ${bytes.length} bytes, expected 1024`,
      0,
    );
  }
  const v = viewOf(bytes);
  const u32 = (o: number) => v.getUint32(o, false);
  const magic = u32(0);
  if (magic !== Jbd2.MAGIC) {
    throw new ExtFormatError(
      `Cannot parse journal superblock: magic is 0x${magic.toString(16)}`,
      0,
    );
  }
  return {
    magic,
    blocktype: u32(4),
    sequence: u32(8),
    blocksize: u32(12),
    maxlen: u32(16),
    first: u32(20),
    sSequence: u32(24),
    start: u32(28),
    errno: v.getInt32(32, false),
    featureCompat: u32(36),
    featureIncompat: u32(40),
    featureRoCompat: u32(44),
    uuid: bytes.slice(48, 64),
    nrUsers: u32(64),
    dynsuper: u32(68),
    maxTransaction: u32(72),
    maxTransData: u32(76),
    checksumType: bytes[80] ?? 0,
    numFcBlocks: u32(84),
    checksum: u32(0xfc),
    users: bytes.slice(0x100, 0x100 + 16 * 48),
  };
}

/** Encodes a JBD2 superblock into 1024 bytes (or over `into`). */
export function encodeJournalSuperblock(jsb: JournalSuperblock, into?: Uint8Array): Uint8Array {
  const bytes = into ?? new Uint8Array(JOURNAL_SUPERBLOCK_SIZE);
  const v = viewOf(bytes);
  const w32 = (o: number, x: number) => v.setUint32(o, x >>> 0, false);
  w32(0, jsb.magic);
  w32(4, jsb.blocktype);
  w32(8, jsb.sequence);
  w32(12, jsb.blocksize);
  w32(16, jsb.maxlen);
  w32(20, jsb.first);
  w32(24, jsb.sSequence);
  w32(28, jsb.start);
  v.setInt32(32, jsb.errno, false);
  w32(36, jsb.featureCompat);
  w32(40, jsb.featureIncompat);
  w32(44, jsb.featureRoCompat);
  bytes.set(jsb.uuid.subarray(0, 16), 48);
  w32(64, jsb.nrUsers);
  w32(68, jsb.dynsuper);
  w32(72, jsb.maxTransaction);
  w32(76, jsb.maxTransData);
  bytes[80] = jsb.checksumType;
  w32(84, jsb.numFcBlocks);
  w32(0xfc, jsb.checksum);
  bytes.set(jsb.users.subarray(0, 16 * 48), 0x100);
  return bytes;
}
