/**
 * Booting a disk image in QEMU (TCG, serial console on stdio) under a timeout.
 *
 * @module
 */
import { execa } from "execa";

/** Options of {@link bootQemu}. */
export interface BootQemuOptions {
  /** Kill QEMU after this long. @default 60000 */
  timeoutMs?: number;
  /** Strings to look for in the serial log; each gets a boolean in the result. */
  markers?: readonly string[];
  /**
   * End the run as soon as one of these appears in the log (e.g. "grub rescue>"
   * for a broken image), instead of waiting for the timeout.
   */
  stopOn?: readonly string[];
  /** Direct kernel boot: `-kernel`. */
  kernel?: string;
  /** Direct kernel boot: `-initrd`. */
  initrd?: string;
  /** Direct kernel boot: `-append`. @default "console=ttyS0 loglevel=4" with kernel */
  append?: string;
  /** Guest memory. @default 512 */
  memoryMiB?: number;
  /** `-snapshot`: the guest's writes go to a temporary overlay. @default false */
  snapshot?: boolean;
  /** More QEMU arguments. */
  extraArgs?: readonly string[];
}

/** What {@link bootQemu} saw. */
export interface BootQemuResult {
  /** Serial console output (and QEMU's own messages), escape codes and CRs stripped. */
  log: string;
  /** For each requested marker: whether it appeared in `log`. */
  markers: Record<string, boolean>;
  /** True when QEMU was killed by the timeout. */
  timedOut: boolean;
  /** The `stopOn` string that ended the run early, if any. */
  stoppedOn: string | undefined;
  /** QEMU's exit code (undefined when killed by a signal). */
  exitCode: number | undefined;
  /** Wall time in milliseconds. */
  durationMs: number;
  /** The command line, for failure messages. */
  command: string;
}

/**
 * Removes terminal escape sequences (CSI, OSC, charset and mode switches) and
 * carriage returns from serial output.
 *
 * @example
 * ```ts
 * stripAnsi("\x1b[0;30;47mWelcome to GRUB!\r\n"); // "Welcome to GRUB!\n"
 * ```
 */
export function stripAnsi(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: escape codes are the point
      .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, "")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: escape codes are the point
      .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: escape codes are the point
      .replace(/\x1b[()*+][0-9A-Za-z]/g, "")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: escape codes are the point
      .replace(/\x1b[=>78cDEHMNOZ]/g, "")
      .replace(/\r/g, "")
  );
}

/** QEMU's -drive option value for a path: commas doubled. */
function driveFile(path: string): string {
  return path.replaceAll(",", ",,");
}

/**
 * Boots `image` (a raw disk, attached as the first IDE disk) with
 * `qemu-system-x86_64 -m 512 -nographic -no-reboot -net none`, either from the
 * disk's MBR or directly with `kernel`/`initrd`/`append`, and returns the
 * serial log and which markers appeared. Never throws for a failed boot: the
 * result says what happened.
 *
 * @example Boot a GRUB image and check the initramfs finished
 * ```ts
 * const r = await bootQemu("disk.img", { markers: ["BIGFILE-DONE ok"], stopOn: ["BIGFILE-DONE"] });
 * expect(r.markers["BIGFILE-DONE ok"]).toBe(true);
 * ```
 */
export async function bootQemu(
  image: string,
  options: BootQemuOptions = {},
): Promise<BootQemuResult> {
  const args = [
    "-m",
    String(options.memoryMiB ?? 512),
    "-nographic",
    "-no-reboot",
    "-net",
    "none",
    "-drive",
    `file=${driveFile(image)},format=raw,if=ide`,
  ];
  if (options.snapshot) args.push("-snapshot");
  if (options.kernel) {
    args.push("-kernel", options.kernel);
    if (options.initrd) args.push("-initrd", options.initrd);
    args.push("-append", options.append ?? "console=ttyS0 loglevel=4");
  }
  if (options.extraArgs) args.push(...options.extraArgs);
  return runQemu(["qemu-system-x86_64", ...args], options);
}

/**
 * Runs a whole QEMU command line (`argv[0]` is the program), as printed by
 * `bigfile vm-config --qemu`, under the timeout of `options`, and reports the
 * serial log and markers as {@link bootQemu} does. Image and boot options of
 * `options` are ignored: the command line says them.
 *
 * @example
 * ```ts
 * const r = await runQemu(["qemu-system-x86_64", "-m", "512", "-nographic", "-drive", "file=disk.img,format=raw"], {
 *   markers: ["BIGFILE-DONE ok"], stopOn: ["BIGFILE-DONE"],
 * });
 * ```
 */
export async function runQemu(
  argv: readonly string[],
  options: BootQemuOptions = {},
): Promise<BootQemuResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const [program = "qemu-system-x86_64", ...args] = argv;
  const started = Date.now();
  const child = execa(program, args, {
    reject: false,
    stdin: "ignore",
    buffer: false,
    timeout: timeoutMs,
    forceKillAfterDelay: 2000,
  });
  let raw = "";
  let stoppedOn: string | undefined;
  const stopOn = options.stopOn ?? [];
  const onData = (chunk: Buffer) => {
    raw += chunk.toString("latin1");
    if (stoppedOn === undefined && stopOn.length > 0) {
      const clean = stripAnsi(raw);
      stoppedOn = stopOn.find((s) => clean.includes(s));
      // Let the guest finish the line it is printing, then end the run.
      if (stoppedOn !== undefined) setTimeout(() => child.kill("SIGTERM"), 300);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const result = await child;
  const log = stripAnsi(raw);
  const markers: Record<string, boolean> = {};
  for (const marker of options.markers ?? []) markers[marker] = log.includes(marker);
  return {
    log,
    markers,
    timedOut: result.timedOut === true,
    stoppedOn,
    exitCode: result.exitCode,
    durationMs: Date.now() - started,
    command: [program, ...args].join(" "),
  };
}
