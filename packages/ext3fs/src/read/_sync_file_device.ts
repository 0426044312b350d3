import { closeSync, openSync, readSync } from "node:fs";
import { assertInRange, type BlockDevice } from "@bigfile/blockdev";

/**
 * A read-only device over a file with blocking positional reads: for the
 * reader's many small metadata reads a thread-pool round trip per read costs
 * more than the read itself. Size comes from the caller (FileDevice knows it,
 * block devices included).
 */
export class SyncReadFileDevice implements BlockDevice {
  readonly size: number;
  readonly sectorSize = 512;
  readonly readOnly = true;
  readonly #fd: number;
  readonly #path: string;

  constructor(path: string, size: number) {
    this.#fd = openSync(path, "r");
    this.#path = path;
    this.size = size;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    assertInRange("read", offset, length, this.size);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.#fd, out, done, length - done, offset + done);
      if (n === 0)
        return Promise.reject(
          new RangeError(`Cannot read at offset ${offset + done}: '${this.#path}' shrank`),
        );
      done += n;
    }
    return Promise.resolve(out);
  }

  write(): Promise<void> {
    return Promise.reject(new TypeError(`Cannot write to '${this.#path}': opened read-only`));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    closeSync(this.#fd);
    return Promise.resolve();
  }
}
