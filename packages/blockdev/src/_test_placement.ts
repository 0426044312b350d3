// A placement for tests: units of an image get the next slot of the file the
// first time they are written (the way a qcow2 places clusters), and the
// image can be read back through the map.
import type { ImagePlacement } from "./image_placement.ts";

export class FirstTouchPlacement implements ImagePlacement {
  readonly unit: number;
  /** Image unit -> file slot. */
  readonly slots = new Map<number, number>();
  /** Every call, as [offset, length]. */
  readonly calls: [number, number][] = [];
  /** Where slot 0 starts in the file (room for a header). */
  readonly base: number;

  constructor(unit: number, base = 0) {
    this.unit = unit;
    this.base = base;
  }

  place(offset: number, length: number): number[] {
    this.calls.push([offset, length]);
    const ranges: number[] = [];
    for (let at = offset, end = offset + length; at < end; ) {
      const u = Math.floor(at / this.unit);
      let slot = this.slots.get(u);
      if (slot === undefined) {
        slot = this.slots.size;
        this.slots.set(u, slot);
      }
      const n = Math.min(end, (u + 1) * this.unit) - at;
      const position = this.base + slot * this.unit + (at % this.unit);
      const last = ranges.length - 2;
      if (last >= 0 && (ranges[last] as number) + (ranges[last + 1] as number) === position)
        ranges[last + 1] = (ranges[last + 1] as number) + n;
      else ranges.push(position, n);
      at += n;
    }
    return ranges;
  }

  /** The image's `length` bytes from 0 as they are in `file` (zeros where unplaced). */
  image(file: Uint8Array, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (const [u, slot] of this.slots) {
      const from = this.base + slot * this.unit;
      const bytes = file.subarray(from, Math.min(file.length, from + this.unit));
      out.set(
        bytes.subarray(0, Math.max(0, Math.min(bytes.length, length - u * this.unit))),
        u * this.unit,
      );
    }
    return out;
  }
}
