/** JBD2 magic number (big-endian on disk). */
export const JBD2_MAGIC = 0xc03b3998;

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

/** Decodes a JBD2 superblock; `undefined` when the magic is wrong. */
export function decodeReaderJournal(bytes: Uint8Array): ReaderJournalSuperblock | undefined {
  if (bytes.length < 1024) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0) !== JBD2_MAGIC) return undefined;
  return {
    blockType: v.getUint32(4),
    blockSize: v.getUint32(12),
    maxLen: v.getUint32(16),
    first: v.getUint32(20),
    sequence: v.getUint32(24),
    start: v.getUint32(28),
    errno: v.getInt32(32),
    featureCompat: v.getUint32(36),
    featureIncompat: v.getUint32(40),
    featureRoCompat: v.getUint32(44),
    uuid: bytes.slice(48, 64),
    nrUsers: v.getUint32(64),
  };
}
