/** A small least-recently-used cache of metadata blocks. */
export class BlockCache {
  #map = new Map<number, Uint8Array>();
  #capacity: number;
  constructor(capacity: number) {
    this.#capacity = capacity;
  }
  get(block: number): Uint8Array | undefined {
    const hit = this.#map.get(block);
    if (hit) {
      this.#map.delete(block);
      this.#map.set(block, hit);
    }
    return hit;
  }
  set(block: number, bytes: Uint8Array): void {
    this.#map.set(block, bytes);
    if (this.#map.size > this.#capacity) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
  }
}
