/**
 * A refusal to install GRUB: the image is left unchanged. The message uses
 * grub-bios-setup's own wording where it has one, so it can be searched for;
 * `offset` is the byte of the image the problem was found at, when there is one.
 */
export class GrubInstallError extends RangeError {
  /** Byte offset in the image, or -1 when the problem has no single place. */
  readonly offset: number;
  constructor(message: string, offset = -1) {
    super(message);
    this.name = "GrubInstallError";
    this.offset = offset;
  }
}
