/**
 * Where the bytes of an image go in a file that keeps them in another layout:
 * a container whose data clusters take their place in the file as they are
 * first written (`@bigfile/vdisk`'s `Qcow2Placement`). Writers that take one
 * (`writeToFd`, `writeNonZeroBlocks`, `CopyPool.attach`) write each range at
 * the file positions it gives, and only ranges that hold data, so parts of
 * the image never written take no place at all.
 */
export interface ImagePlacement {
  /**
   * The file's byte ranges for the `length` bytes at image offset `offset`,
   * in order, as flat pairs [position, length, position, length, ...]; the
   * first call that covers a part of the image gives that part its place.
   */
  place(offset: number, length: number): number[];
}
