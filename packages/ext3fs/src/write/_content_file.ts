import { accessSync, closeSync, constants, openSync, readSync } from "node:fs";

const DIRECT_CHUNK = 1 << 20;
const DIRECT_ALIGN = 4096;
let directBuffer: Uint8Array | undefined;

import type { ContentRef } from "./tree.ts";

/** File content read from a path (or a region of a spool file), opened only when needed. */
export class FileContent implements ContentRef {
  readonly #path: string | Buffer;
  /** With a name, `#path` is the directory (shared by its entries: less memory than full paths). */
  #name: string | undefined;
  readonly #label: string | undefined;
  readonly #base: number;
  #fd = -1;

  /**
   * `label` names the content in messages (default: the path); `base` is the
   * offset of the content inside the file (for spool files).
   */
  constructor(path: string | Buffer, label?: string, base = 0) {
    this.#path = path;
    this.#name = undefined;
    this.#label = label;
    this.#base = base;
  }

  /** Content of the entry `name` in directory `dir`. */
  static inDirectory(dir: string, name: string): FileContent {
    const content = new FileContent(dir);
    content.#name = name;
    return content;
  }

  get #fullPath(): string | Buffer {
    return this.#name === undefined ? this.#path : `${this.#path as string}/${this.#name}`;
  }

  /** The source path (or label) for messages. */
  get label(): string {
    return this.#label ?? this.#fullPath.toString();
  }

  /** Throws if the file cannot be read (without opening it). */
  check(): void {
    accessSync(this.#fullPath, constants.R_OK);
  }

  /** Opens the file. */
  async open(): Promise<void> {
    if (this.#fd < 0) this.#fd = openSync(this.#fullPath, "r");
  }

  /**
   * Opens with O_DIRECT (reads of holes then cost no page cache) and returns
   * a 1 MiB buffer whose memory is 4 KiB-aligned, found by trying reads at
   * offsets inside a slightly bigger allocation. Undefined where the
   * filesystem refuses O_DIRECT, or for spool regions.
   */
  openUncached(): Uint8Array | undefined {
    if (this.#base !== 0 || this.#fd >= 0 || constants.O_DIRECT === undefined) return undefined;
    let fd: number;
    try {
      fd = openSync(this.#fullPath, constants.O_RDONLY | constants.O_DIRECT);
    } catch {
      return undefined;
    }
    if (!directBuffer) {
      const space = new Uint8Array(DIRECT_CHUNK + DIRECT_ALIGN);
      for (let at = 0; at < DIRECT_ALIGN && !directBuffer; at += 8) {
        const candidate = space.subarray(at, at + DIRECT_CHUNK);
        try {
          readSync(fd, candidate, 0, DIRECT_ALIGN, 0);
          directBuffer = candidate;
        } catch {}
      }
    }
    if (!directBuffer) {
      closeSync(fd);
      return undefined;
    }
    this.#fd = fd;
    return directBuffer;
  }

  /** Reads into `into` at `position`. */
  async read(position: number, into: Uint8Array): Promise<number> {
    if (this.#fd < 0) await this.open();
    return readSync(this.#fd, into, 0, into.length, this.#base + position);
  }

  /** Closes the file. */
  async close(): Promise<void> {
    if (this.#fd >= 0) {
      closeSync(this.#fd);
      this.#fd = -1;
    }
  }
}
