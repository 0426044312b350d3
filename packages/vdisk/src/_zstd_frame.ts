// The length of one Zstandard frame (RFC 8878, section 3.1.1), read from its
// headers without decompressing. A qcow2 compressed cluster records only the
// sectors it spans, so a zstd frame is followed by padding that a one-shot
// decompressor would take for another frame: QEMU streams and stops when the
// cluster is full; we cut the frame out first.

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * The byte length of the zstd frame at the start of `data`, or undefined when
 * it is not one, is truncated, or uses a reserved block type or flag.
 */
export function zstdFrameLength(data: Uint8Array): number | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 6 || view.getUint32(0, true) !== ZSTD_MAGIC) return undefined;
  const descriptor = data[4] as number;
  if (descriptor & 0x08) return undefined; // reserved bit
  const singleSegment = (descriptor & 0x20) !== 0;
  const fcsFlag = descriptor >> 6;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
  const dictBytes = [0, 1, 2, 4][descriptor & 3] as number;
  let at = 5 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
  for (;;) {
    if (at + 3 > data.length) return undefined;
    const header =
      (data[at] as number) | ((data[at + 1] as number) << 8) | ((data[at + 2] as number) << 16);
    const last = header & 1;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) return undefined; // reserved block type
    at += 3 + (type === 1 ? 1 : size); // an RLE block holds one byte, repeated
    if (at > data.length) return undefined;
    if (last) break;
  }
  if (descriptor & 0x04) at += 4; // content checksum
  return at <= data.length ? at : undefined;
}
