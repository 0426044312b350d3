/** Packing blocks into the chunks the image streams in. */
import { zeros } from "@bigfile/blockdev";

/** The size of the chunks the writers hand out: 1 MiB. */
export const CHUNK = 1 << 20;
/** The buffer behind blockdev's shared zero views, which sinks skip. */
export const SHARED_ZEROS = zeros(0).buffer;

/** Coalesces small pieces into ~1 MiB chunks; big pieces and zero runs pass through. */
export class Packer {
  readonly #reuse: boolean;
  readonly #spare: Uint8Array[] = [];
  #buf: Uint8Array = new Uint8Array(CHUNK);

  /** With `reuse`, two buffers alternate: each flushed chunk must be consumed before the next flush. */
  constructor(reuse = false) {
    this.#reuse = reuse;
    if (reuse) this.#spare.push(new Uint8Array(CHUNK));
  }
  #used = 0;
  readonly out: Uint8Array[] = [];

  /** Adds bytes (copied if small; views of the shared zero buffer stay a hole). */
  push(bytes: Uint8Array): void {
    if (bytes.buffer === SHARED_ZEROS) {
      this.hole(bytes.length);
      return;
    }
    this.#emitHole();
    if (bytes.length >= CHUNK / 4) {
      this.flush();
      this.out.push(bytes);
      return;
    }
    if (this.#used + bytes.length > CHUNK) this.flush();
    this.#buf.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  /**
   * Adds `n` zero bytes as views of the shared zero buffer, never packed with
   * other bytes: a sink skips them without looking (the copier's blocks).
   */
  hole(n: number): void {
    // Pending bytes go out first; a pending hole just grows (one chunk per
    // mebibyte of holes, not one per file the copier writes).
    if (this.#used > 0) this.flush();
    this.#hole += n;
  }
  #hole = 0;

  #emitHole(): void {
    for (; this.#hole > 0; this.#hole -= Math.min(this.#hole, CHUNK)) {
      this.out.push(zeros(Math.min(this.#hole, CHUNK)));
    }
  }

  /** Adds `n` zero bytes. */
  zero(n: number): void {
    if (this.#hole > 0) {
      this.#hole += n;
      return;
    }
    if (n >= CHUNK / 4) {
      this.flush();
      for (let left = n; left > 0; left -= CHUNK) this.out.push(zeros(Math.min(left, CHUNK)));
      return;
    }
    if (this.#used + n > CHUNK) this.flush();
    if (this.#reuse) this.#buf.fill(0, this.#used, this.#used + n);
    this.#used += n;
  }

  /** A zeroed region of `n` bytes (less than a quarter chunk) in the pending chunk, to fill in place. */
  take(n: number): Uint8Array {
    this.#emitHole();
    if (this.#used + n > CHUNK) this.flush();
    const region = this.#buf.subarray(this.#used, this.#used + n);
    if (this.#reuse) region.fill(0);
    this.#used += n;
    return region;
  }

  /**
   * A zeroed buffer of `n` bytes (at most one chunk) for a big piece, to fill
   * and then hand to {@linkcode Packer.push}. With `reuse`, one buffer serves
   * every big piece: push it before asking for the next.
   */
  takeBig(n: number): Uint8Array {
    this.flush();
    this.#emitHole();
    if (!this.#reuse) return new Uint8Array(n);
    this.#big ??= new Uint8Array(CHUNK);
    return this.#big.subarray(0, n).fill(0);
  }
  #big: Uint8Array | undefined;

  /** Moves pending bytes (or a pending hole) to `out`. */
  flush(): void {
    this.#emitHole();
    if (this.#used > 0) {
      this.out.push(this.#buf.subarray(0, this.#used));
      if (this.#reuse) {
        const next = this.#spare.pop() as Uint8Array;
        this.#spare.push(this.#buf);
        this.#buf = next;
      } else this.#buf = new Uint8Array(CHUNK);
      this.#used = 0;
    }
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Writes a map block's pointers (little-endian) into `out`. */
export function pointerBlock(pointers: Uint32Array, out: Uint8Array): void {
  if (LITTLE_ENDIAN && (out.byteOffset & 3) === 0) {
    new Uint32Array(out.buffer, out.byteOffset, pointers.length).set(pointers);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset, pointers.length * 4);
  for (let i = 0; i < pointers.length; i++) {
    const p = pointers[i] as number;
    if (p !== 0) view.setUint32(i * 4, p, true);
  }
}
