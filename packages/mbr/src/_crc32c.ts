// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum ext4, XFS and btrfs keep
// in their superblocks. A small table-driven version: superblocks are a few KiB.

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The standard CRC-32C of `bytes` (initial value and final XOR 0xFFFFFFFF):
 * `crc32c(new TextEncoder().encode("123456789")) === 0xe3069283`.
 */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    crc = (TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
