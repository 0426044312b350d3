/** Bytes to lay over a passing stream at an absolute offset. */
export interface BytePatch {
  offset: number;
  bytes: Uint8Array;
}

/**
 * Overlays patches on a byte stream as it passes: chunks that touch a patch are
 * copied and patched (input chunks are never modified, so shared zero buffers
 * stay zero); every other chunk passes through as is, so the stream moves at
 * pipe speed. Errors with a `RangeError` if the stream ends before a patch.
 *
 * @example Usage
 * ```ts
 * import { SectorPatchStream } from "@bigfile/mbr";
 * const out = ReadableStream.from([new Uint8Array(1024)])
 *   .pipeThrough(new SectorPatchStream([{ offset: 510, bytes: new Uint8Array([0x55, 0xaa]) }]));
 * ```
 */
export class SectorPatchStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(patches: BytePatch[]) {
    const sorted = [...patches]
      .filter((p) => p.bytes.length > 0)
      .sort((a, b) => a.offset - b.offset);
    for (const p of sorted) {
      if (!Number.isSafeInteger(p.offset) || p.offset < 0)
        throw new RangeError(`Cannot patch at offset ${p.offset}: expected a non-negative integer`);
    }
    let position = 0;
    let next = 0; // first patch not wholly behind `position`
    super({
      transform(chunk, controller) {
        const start = position;
        const end = start + chunk.length;
        position = end;
        while (
          next < sorted.length &&
          (sorted[next] as BytePatch).offset + (sorted[next] as BytePatch).bytes.length <= start
        )
          next++;
        if (next >= sorted.length || (sorted[next] as BytePatch).offset >= end) {
          controller.enqueue(chunk);
          return;
        }
        const copy = chunk.slice();
        for (let i = next; i < sorted.length; i++) {
          const p = sorted[i] as BytePatch;
          if (p.offset >= end) break;
          const from = Math.max(p.offset, start);
          const to = Math.min(p.offset + p.bytes.length, end);
          if (to > from) copy.set(p.bytes.subarray(from - p.offset, to - p.offset), from - start);
        }
        controller.enqueue(copy);
      },
      flush() {
        const last = sorted[sorted.length - 1];
        if (last && last.offset + last.bytes.length > position) {
          throw new RangeError(
            `Cannot write the table: the image ended at byte ${position}, before byte ${last.offset + last.bytes.length} of its sector at offset ${last.offset}`,
          );
        }
      },
    });
  }
}
