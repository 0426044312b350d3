/** One raw directory entry. */
export interface ReaderDirent {
  ino: number;
  /** The name decoded as UTF-8 (invalid sequences replaced). */
  name: string;
  /** Whether the name bytes are valid UTF-8 without NUL or '/'. */
  nameValid: boolean;
  /** Directory entry file type (0 unknown, 1 file, 2 dir, 3 chr, 4 blk, 5 fifo, 6 sock, 7 symlink). */
  fileType: number;
  /** Bytes of the name on disk. */
  nameLength: number;
  recLen: number;
  /** Byte offset of the entry in the image. */
  offset: number;
}

/** A structural fault found while parsing a directory block. */
export interface DirentFault {
  message: string;
  offset: number;
}

const strict = new TextDecoder("utf-8", { fatal: true });
const loose = new TextDecoder("utf-8", { fatal: false });

/**
 * Parses a directory block: every entry with a non-zero inode, in order.
 * Stops at the first malformed entry and returns it as `fault`.
 */
export function parseDirBlock(
  block: Uint8Array,
  blockOffset: number,
  hasFileType: boolean,
): { entries: ReaderDirent[]; fault?: DirentFault } {
  const v = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const entries: ReaderDirent[] = [];
  let at = 0;
  while (at < block.length) {
    const offset = blockOffset + at;
    if (at + 8 > block.length) {
      return {
        entries,
        fault: { message: `directory entry header crosses the end of its block`, offset },
      };
    }
    const ino = v.getUint32(at, true);
    const recLen = v.getUint16(at + 4, true);
    const nameLen = hasFileType ? (block[at + 6] ?? 0) : v.getUint16(at + 6, true) & 0x1ff;
    const fileType = hasFileType ? (block[at + 7] ?? 0) : 0;
    if (recLen < 8 || recLen % 4 !== 0) {
      return {
        entries,
        fault: {
          message: `directory entry rec_len ${recLen} is not a multiple of 4 of at least 8`,
          offset,
        },
      };
    }
    if (at + recLen > block.length) {
      return {
        entries,
        fault: {
          message: `directory entry rec_len ${recLen} crosses the end of its block`,
          offset,
        },
      };
    }
    if (8 + nameLen > recLen) {
      return {
        entries,
        fault: {
          message: `directory entry name of ${nameLen} bytes does not fit its rec_len ${recLen}`,
          offset,
        },
      };
    }
    if (ino !== 0) {
      if (nameLen === 0)
        return { entries, fault: { message: "directory entry has an empty name", offset } };
      const raw = block.subarray(at + 8, at + 8 + nameLen);
      let name: string;
      let nameValid = !raw.includes(0) && !raw.includes(0x2f);
      try {
        name = strict.decode(raw);
      } catch {
        name = loose.decode(raw);
        nameValid = false;
      }
      entries.push({ ino, name, nameValid, fileType, nameLength: nameLen, recLen, offset });
    }
    at += recLen;
  }
  return { entries };
}
