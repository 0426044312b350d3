/** Options for {@linkcode grubLegacyMenu}. */
export interface GrubLegacyMenuOptions {
  /** Absolute path of the kernel inside the root filesystem. @default "/boot/vmlinuz" */
  kernel?: string;
  /** Absolute path of the initrd, or `null` for none. @default "/boot/initrd.img" */
  initrd?: string | null;
  /** Kernel command line. @default "root=/dev/sda1 ro" */
  cmdline?: string;
  /** A serial console (ttyS0, 115200 baud) for the menu and the kernel. @default false */
  serial?: boolean;
  /** Seconds the menu waits. @default 0 */
  timeout?: number;
  /** The entry's title. @default "Linux" */
  title?: string;
  /** GRUB Legacy's name of the partition holding the kernel, 0-based. @default "(hd0,0)" */
  root?: string;
}

/**
 * A GRUB Legacy `menu.lst` for the same kernel as {@linkcode grubConfig}: read
 * by GRUB 0.97 and by Xen's pygrub (which tries grub.cfg first). Paths and
 * command line are checked as grubConfig checks them.
 *
 * @example Usage
 * ```ts
 * import { grubLegacyMenu } from "@bigfile/grub-mbr";
 * const menu = grubLegacyMenu({ cmdline: "root=/dev/xvda1 ro", serial: true });
 * ```
 */
export function grubLegacyMenu(options: GrubLegacyMenuOptions = {}): string {
  const kernel = options.kernel ?? "/boot/vmlinuz";
  const initrd = options.initrd === undefined ? "/boot/initrd.img" : options.initrd;
  const title = options.title ?? "Linux";
  const timeout = options.timeout ?? 0;
  const root = options.root ?? "(hd0,0)";
  let cmdline = options.cmdline ?? "root=/dev/sda1 ro";
  for (const [what, value] of [
    ["kernel", kernel],
    ["initrd", initrd ?? "/"],
  ] as const) {
    if (!value.startsWith("/") || /\s/.test(value))
      throw new TypeError(
        `Cannot write menu.lst: the ${what} path must be absolute without spaces (got '${value}')`,
      );
  }
  if (/\n/.test(title) || /\n/.test(cmdline))
    throw new TypeError("Cannot write menu.lst: the title and command line must be one line each");
  if (!/^\(hd\d+,\d+\)$/.test(root))
    throw new TypeError(`Cannot write menu.lst: root must look like (hd0,0) (got '${root}')`);
  if (!Number.isInteger(timeout) || timeout < 0)
    throw new RangeError(
      `Cannot write menu.lst: timeout must be a whole number of seconds (got ${timeout})`,
    );
  if (options.serial && !/\bconsole=ttyS0/.test(cmdline))
    cmdline = `${cmdline} console=ttyS0,115200`.trim();
  const lines = ["# Written by grub-mbr: read by GRUB Legacy and by pygrub.", "default 0"];
  lines.push(`timeout ${timeout}`);
  if (options.serial)
    lines.push("serial --unit=0 --speed=115200", "terminal --timeout=0 serial console");
  lines.push("", `title ${title}`, `\troot ${root}`);
  lines.push(`\tkernel ${kernel}${cmdline ? ` ${cmdline}` : ""}`);
  if (initrd) lines.push(`\tinitrd ${initrd}`);
  return `${lines.join("\n")}\n`;
}
