/**
 * Building GRUB's core.img with Debian's grub-mkimage.
 *
 * @module
 */
import { execa } from "execa";

/** Where Debian's grub-pc-bin keeps boot.img, the modules and grub-bios-setup. */
export const GRUB_I386_PC_DIR = "/usr/lib/grub/i386-pc";

/** Options of {@link grubMkimage}. */
export interface GrubMkimageOptions {
  /** `-p`: where GRUB finds its files. @default "(hd0,msdos1)/boot/grub" */
  prefix?: string;
  /** Modules built in. @default ["biosdisk", "part_msdos", "ext2"] (53 sectors) */
  modules?: readonly string[];
}

/**
 * `grub-mkimage -O i386-pc -p PREFIX -o OUTPUT MODULES...`; returns OUTPUT.
 * The default core (biosdisk part_msdos ext2) is 27022 bytes, 53 sectors: it
 * fits the 62-sector gap before a partition at sector 63.
 */
export async function grubMkimage(
  output: string,
  options: GrubMkimageOptions = {},
): Promise<string> {
  const modules = options.modules ?? ["biosdisk", "part_msdos", "ext2"];
  const r = await execa(
    "grub-mkimage",
    ["-O", "i386-pc", "-p", options.prefix ?? "(hd0,msdos1)/boot/grub", "-o", output, ...modules],
    { reject: false, stdin: "ignore" },
  );
  if (r.exitCode !== 0) throw new Error(`grub-mkimage failed: ${r.stderr.trim()}`);
  return output;
}
