/**
 * The /boot payload of a bootable root: kernel, initrd, GRUB's modules and a
 * grub.cfg that both GRUB and pygrub read.
 *
 * @module
 */
import { copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GRUB_I386_PC_DIR } from "./grub_mkimage.ts";

/** Options of {@link grubCfg}. */
export interface GrubCfgOptions {
  /** Kernel path inside the filesystem. @default "/boot/vmlinuz" */
  kernel?: string;
  /** Initrd path inside the filesystem; null for none. @default "/boot/initrd.img" */
  initrd?: string | null;
  /** Kernel command line. @default "console=ttyS0 loglevel=4" */
  cmdline?: string;
  /** Menu entry title. @default "bigfile test" */
  title?: string;
  /** Drive GRUB's console over the serial port. @default true */
  serial?: boolean;
}

/**
 * A grub.cfg in the dialect both GRUB 2 and pygrub understand (see
 * e2e-notes.md): numeric default, quoted title with `{` on its line,
 * absolute paths, no variables.
 */
export function grubCfg(options: GrubCfgOptions = {}): string {
  const lines: string[] = [];
  if (options.serial !== false) {
    lines.push("serial --unit=0 --speed=115200", "terminal_input serial", "terminal_output serial");
  }
  lines.push("set default=0", "set timeout=0", `menuentry '${options.title ?? "bigfile test"}' {`);
  lines.push(
    `  linux ${options.kernel ?? "/boot/vmlinuz"} ${options.cmdline ?? "console=ttyS0 loglevel=4"}`,
  );
  if (options.initrd !== null) lines.push(`  initrd ${options.initrd ?? "/boot/initrd.img"}`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** Options of {@link writeBootFiles}. */
export interface BootFilesOptions extends Omit<GrubCfgOptions, "kernel" | "initrd"> {
  /** Host path of the kernel, copied to /boot/vmlinuz. Omit to leave it out. */
  kernel?: string;
  /** Host path of the initrd, copied to /boot/initrd.img. */
  initrd?: string;
  /** Copy GRUB's i386-pc modules to /boot/grub/i386-pc (needed by a small core.img). @default true */
  grubModules?: boolean;
}

/**
 * Puts a bootable /boot into `root`: /boot/vmlinuz, /boot/initrd.img,
 * /boot/grub/grub.cfg and /boot/grub/i386-pc/*.mod,*.lst.
 */
export async function writeBootFiles(root: string, options: BootFilesOptions = {}): Promise<void> {
  const boot = join(root, "boot");
  await mkdir(join(boot, "grub"), { recursive: true });
  if (options.kernel) await copyFile(options.kernel, join(boot, "vmlinuz"));
  if (options.initrd) await copyFile(options.initrd, join(boot, "initrd.img"));
  if (options.grubModules !== false) {
    const dir = join(boot, "grub", "i386-pc");
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(GRUB_I386_PC_DIR)) {
      if (name.endsWith(".mod") || name.endsWith(".lst")) {
        await copyFile(join(GRUB_I386_PC_DIR, name), join(dir, name));
      }
    }
  }
  const cfg: GrubCfgOptions = { initrd: options.initrd ? "/boot/initrd.img" : null };
  if (options.cmdline !== undefined) cfg.cmdline = options.cmdline;
  if (options.title !== undefined) cfg.title = options.title;
  if (options.serial !== undefined) cfg.serial = options.serial;
  await writeFile(join(boot, "grub", "grub.cfg"), grubCfg(cfg));
}
