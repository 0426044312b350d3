// qcow2 constants shared by the writer and the reader (from QEMU's docs/interop/qcow2.txt).

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
export const QCOW2_HEADER_LENGTH = 112; // v3 header with the compression_type byte, padded to 8
/** L1/L2 entry bit 63: refcount is exactly one. */
export const COPIED = 1n << 63n;
/** L2 entry bit 62: compressed cluster. */
export const COMPRESSED = 1n << 62n;
/** Standard cluster descriptor bit 0: reads as zeros (v3). */
export const ZERO_FLAG = 1n;
/** Bits 9-55 of an L1/L2 entry: a cluster-aligned host offset. */
export const OFFSET_MASK = 0x00fffffffffffe00n;
/** Largest L1 table QEMU accepts, in bytes. */
export const MAX_L1_BYTES = 32 << 20;
/** Largest refcount table QEMU accepts, in bytes. */
export const MAX_REFCOUNT_TABLE_BYTES = 8 << 20;
