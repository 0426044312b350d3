import { accessSync, closeSync, constants, openSync, readSync } from "node:fs";

const DIRECT_CHUNK = 1 << 20;
const DIRECT_ALIGN = 4096;
let directBuffer: Uint8Array | undefined;

import type { ContentFactory, ContentRef } from "./tree.ts";

/**
 * Opens `path` with O_DIRECT and finds a 4 KiB-aligned 1 MiB buffer for it
 * (kept in `directBuffer`): the descriptor, or undefined when not possible.
 */
function openDirect(path: string | Buffer): number | undefined {
  if (constants.O_DIRECT === undefined) return undefined;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_DIRECT);
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
  return fd;
}

/** File content read from a path (or a region of a spool file), opened only when needed. */
export class FileContent implements ContentRef {
  readonly #path: string | Buffer;
  readonly #label: string | undefined;
  readonly #base: number;
  #fd = -1;

  /**
   * `label` names the content in messages (default: the path); `base` is the
   * offset of the content inside the file (for spool files).
   */
  constructor(path: string | Buffer, label?: string, base = 0) {
    this.#path = path;
    this.#label = label;
    this.#base = base;
  }

  /** The source path (or label) for messages. */
  get label(): string {
    return this.#label ?? this.#path.toString();
  }

  /** The file, the content's offset in it, and the label if it is not the path. */
  get source(): { path: string | Buffer; offset: number; label: string | undefined } {
    return { path: this.#path, offset: this.#base, label: this.#label };
  }

  /** Throws if the file cannot be read (without opening it). */
  check(): void {
    accessSync(this.#path, constants.R_OK);
  }

  /** Opens the file. */
  async open(): Promise<void> {
    if (this.#fd < 0) this.#fd = openSync(this.#path, "r");
  }

  /**
   * Opens with O_DIRECT (reads of holes then cost no page cache) and returns
   * a 1 MiB buffer whose memory is 4 KiB-aligned, found by trying reads at
   * offsets inside a slightly bigger allocation. Undefined where the
   * filesystem refuses O_DIRECT, or for spool regions.
   */
  openUncached(): Uint8Array | undefined {
    if (this.#base !== 0 || this.#fd >= 0) return undefined;
    const direct = openDirect(this.#path);
    if (direct === undefined) return undefined;
    this.#fd = direct;
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

/** Content readers for the tree's file rows: a path in a directory source, or a region of the tar spool. */
export const fileContent: ContentFactory = (origin, path, offset, label) =>
  origin.kind === "spool"
    ? new FileContent(origin.path, label, offset)
    : new FileContent(Buffer.from(path.buffer, path.byteOffset, path.length), label);
