// File-to-file copies in batches: the kernel copies each batch (blockdev's
// copyFileRanges), and progress is reported between them.
import { copyFileRanges } from "@bigfile/blockdev/node";

/** Bytes copied per call, between progress reports. */
const COPY_BATCH = 256 << 20;

/** Collects copy ranges from `input` into `output` and copies them about 256 MiB at a time. */
export class CopyBatches {
  readonly #input: number;
  readonly #output: number;
  readonly #onProgress: ((done: number) => void) | undefined;
  #batch: number[] = [];
  #bytes = 0;

  constructor(input: number, output: number, onProgress?: (done: number) => void) {
    this.#input = input;
    this.#output = output;
    this.#onProgress = onProgress;
  }

  /**
   * Copies `length` bytes at `from` of the input to `to` of the output, now
   * or with the next batch; `reached` is the disk offset progress reports
   * once this range is in place.
   */
  add(to: number, from: number, length: number, reached: number): void {
    for (let done = 0; done < length; ) {
      const n = Math.min(COPY_BATCH - this.#bytes, length - done);
      this.#batch.push(to + done, from + done, n);
      this.#bytes += n;
      done += n;
      if (this.#bytes >= COPY_BATCH) this.flush(reached - length + done);
    }
  }

  /** Copies what is collected, then reports `reached`. */
  flush(reached: number): void {
    if (this.#batch.length > 0) copyFileRanges(this.#input, this.#output, this.#batch);
    this.#batch = [];
    this.#bytes = 0;
    this.#onProgress?.(reached);
  }
}
