/** Options for {@linkcode grubConfig}. */
export interface GrubConfigOptions {
  /** Absolute path of the kernel inside the root filesystem. @default "/boot/vmlinuz" */
  kernel?: string;
  /** Absolute path of the initrd, or `null` for none. @default "/boot/initrd.img" */
  initrd?: string | null;
  /** Kernel command line. @default "root=/dev/sda1 ro" */
  cmdline?: string;
  /** Drive a serial console (ttyS0, 115200 baud) in GRUB and the kernel. @default false */
  serial?: boolean;
  /** Seconds the menu waits. @default 0 */
  timeout?: number;
  /** The menu entry's title. @default "Linux" */
  title?: string;
}

/**
 * A grub.cfg that both GRUB 2 and Xen's pygrub read: numeric `set default`,
 * one `menuentry 'Title' {` per kernel with `{` on its line, `linux` and
 * `initrd` with absolute paths, no variables.
 *
 * @example Usage
 * ```ts
 * import { grubConfig } from "@bigfile/grub-mbr";
 * const cfg = grubConfig({ serial: true, cmdline: "root=/dev/sda1 ro quiet" });
 * ```
 */
export function grubConfig(options: GrubConfigOptions = {}): string {
  const kernel = options.kernel ?? "/boot/vmlinuz";
  const initrd = options.initrd === undefined ? "/boot/initrd.img" : options.initrd;
  const title = options.title ?? "Linux";
  const timeout = options.timeout ?? 0;
  let cmdline = options.cmdline ?? "root=/dev/sda1 ro";
  for (const [what, value] of [
    ["kernel", kernel],
    ["initrd", initrd ?? "/"],
  ] as const) {
    if (!value.startsWith("/") || /[\s'"$;{}]/.test(value)) {
      throw new TypeError(
        `Cannot write grub.cfg: the ${what} path must be absolute without spaces, quotes or $ (got '${value}')`,
      );
    }
  }
  if (/['"\n{}$]/.test(title))
    throw new TypeError(
      `Cannot write grub.cfg: the title may not hold quotes, braces, $ or newlines (got '${title}')`,
    );
  if (/[\n'"$;{}]/.test(cmdline)) {
    throw new TypeError(
      `Cannot write grub.cfg: the command line may not hold quotes, braces, $, ; or newlines (got '${cmdline}')`,
    );
  }
  if (!Number.isInteger(timeout) || timeout < 0)
    throw new RangeError(
      `Cannot write grub.cfg: timeout must be a whole number of seconds (got ${timeout})`,
    );
  if (options.serial && !/\bconsole=ttyS0/.test(cmdline))
    cmdline = `${cmdline} console=ttyS0,115200`.trim();
  const lines = [
    "# Written by grub-mbr: read by GRUB 2 and by pygrub.",
    "set default=0",
    `set timeout=${timeout}`,
  ];
  if (options.serial) {
    lines.push("serial --unit=0 --speed=115200", "terminal_input serial", "terminal_output serial");
  }
  lines.push(`menuentry '${title}' {`, `\tlinux ${kernel}${cmdline ? ` ${cmdline}` : ""}`);
  if (initrd) lines.push(`\tinitrd ${initrd}`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
