import { decodeJournalSuperblock, type JournalSuperblock } from "../format/mod.ts";

/** The journal superblock fields the reader reports. */
export interface ReaderJournalSuperblock {
  blockType: number;
  blockSize: number;
  maxLen: number;
  first: number;
  sequence: number;
  start: number;
  errno: number;
  featureCompat: number;
  featureIncompat: number;
  featureRoCompat: number;
  uuid: Uint8Array;
  nrUsers: number;
}

/** Decodes a JBD2 superblock with the format codec; `undefined` when the magic is wrong. */
export function decodeReaderJournal(bytes: Uint8Array): ReaderJournalSuperblock | undefined {
  if (bytes.length < 1024) return undefined;
  let jsb: JournalSuperblock;
  try {
    jsb = decodeJournalSuperblock(bytes.subarray(0, 1024));
  } catch {
    return undefined;
  }
  return {
    blockType: jsb.blocktype,
    blockSize: jsb.blocksize,
    maxLen: jsb.maxlen,
    first: jsb.first,
    sequence: jsb.sSequence,
    start: jsb.start,
    errno: jsb.errno,
    featureCompat: jsb.featureCompat,
    featureIncompat: jsb.featureIncompat,
    featureRoCompat: jsb.featureRoCompat,
    uuid: jsb.uuid,
    nrUsers: jsb.nrUsers,
  };
}
