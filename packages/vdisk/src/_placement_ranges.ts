// What every container placement (blockdev's ImagePlacement) does the same
// way: check a `place` call, and cut a disk range into file ranges unit by unit.

/**
 * Throws unless `[offset, offset + length)` is a range of a disk of `size`
 * bytes and the placement is not finished. `name` is the class, `disk` what
 * the message calls the disk ("a qcow2 disk").
 */
export function checkPlace(
  name: string,
  disk: string,
  finished: boolean,
  offset: number,
  length: number,
  size: number,
): void {
  if (finished) throw new TypeError(`${name}.place after finish`);
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  ) {
    throw new RangeError(`Cannot place ${length} bytes at ${offset} of ${disk} of ${size} bytes`);
  }
}

/**
 * `[position, length, ...]` in the file for the disk's bytes `[offset, offset
 * + length)`, in units of `unit` bytes stored whole at `hostOf(index)` (which
 * places a unit on its first call); units that follow each other in the file
 * come back as one range.
 */
export function unitFileRanges(
  offset: number,
  length: number,
  unit: number,
  hostOf: (index: number) => number,
): number[] {
  const ranges: number[] = [];
  for (let at = offset, end = offset + length; at < end; ) {
    const index = Math.floor(at / unit);
    const position = hostOf(index) + (at % unit);
    const n = Math.min(end, (index + 1) * unit) - at;
    const last = ranges.length - 2;
    if (last >= 0 && (ranges[last] as number) + (ranges[last + 1] as number) === position)
      ranges[last + 1] = (ranges[last + 1] as number) + n;
    else ranges.push(position, n);
    at += n;
  }
  return ranges;
}
