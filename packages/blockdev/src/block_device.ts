/**
 * Random access to a run of bytes: a disk image, a partition inside one, or
 * memory. Offsets and lengths are in bytes; `sectorSize` tells callers the
 * natural unit (512 for disk images) but reads and writes need not align.
 */
export interface BlockDevice {
  /** Size in bytes. */
  readonly size: number;
  /** Logical sector size in bytes. @default 512 */
  readonly sectorSize: number;
  /** Whether writes are refused. */
  readonly readOnly: boolean;
  /** Reads exactly `length` bytes at `offset`; out-of-range reads throw {@linkcode DeviceRangeError}. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Writes all of `data` at `offset`; never grows the device. */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Makes earlier writes durable where the backing store allows it. */
  flush(): Promise<void>;
  /** Releases the backing store; the device is unusable afterwards. */
  close(): Promise<void>;
}

/** An access outside a device's bounds; carries the byte `offset` that was refused. */
export class DeviceRangeError extends RangeError {
  readonly offset: number;
  readonly length: number;
  readonly size: number;
  constructor(action: "read" | "write", offset: number, length: number, size: number) {
    super(
      `Cannot ${action} ${length} bytes at offset ${offset}: the device holds ${size} bytes (last byte ${size - 1})`,
    );
    this.name = "DeviceRangeError";
    this.offset = offset;
    this.length = length;
    this.size = size;
  }
}

/** Throws unless `[offset, offset + length)` lies within `size` bytes. */
export function assertInRange(
  action: "read" | "write",
  offset: number,
  length: number,
  size: number,
): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new DeviceRangeError(action, offset, length, size);
  }
  if (offset + length > size) throw new DeviceRangeError(action, offset, length, size);
}
