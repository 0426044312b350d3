import { accessSync, closeSync, constants, openSync, readSync } from "node:fs";

import type { ContentFactory, ContentRef } from "./_tree.ts";

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
