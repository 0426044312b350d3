import { createHash, randomBytes } from "node:crypto";
import { accessSync, constants, fstatSync, ftruncateSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join, resolve } from "node:path";
import { zeroChunks } from "@bigfile/blockdev";
import {
  canWriteSparse,
  writeFileAtomically,
  writeNonZeroBlocks,
  writeToFd,
} from "@bigfile/blockdev/node";
import { geometryOf } from "@bigfile/chs-geometry";
import {
  createCopier,
  filesystemOutput,
  type MkfsImage,
  type MkfsOptions,
  type MkfsSource,
  mkfs,
} from "@bigfile/ext3fs/node";
import { grubConfig, grubLegacyMenu } from "@bigfile/grub-mbr";
import { coreModules, findGrubDir } from "@bigfile/grub-mbr/node";
import { planWrap, type WrapPlan } from "@bigfile/mbr";
import {
  DynamicVhdPlacement,
  FixedVhdPlacement,
  type ImageFormat,
  Qcow2Placement,
  rawLayout,
  SparseVmdkPlacement,
} from "@bigfile/vdisk";
import { FdSink, writeImageTo } from "@bigfile/vdisk/node";
import { bootPayload } from "./_boot_payload.ts";
import { cachedCoreImage } from "./_core_image_cache.ts";
import { type DiskHead, type HeadGrub, planDiskHead } from "./_disk_head.ts";
import { type BootSource, findBootFiles } from "./_find_boot_files.ts";
import {
  type BuildOptions,
  type BuildOutput,
  type RootfsSource,
  SEED_DISK_SIZE,
} from "./build_options.ts";

export * from "./build_options.ts";

/** What {@linkcode build} made. */
export interface BuildReport {
  /** The output path, or "-" for a descriptor or sink. */
  output: string;
  /** The image file's format. */
  format: ImageFormat;
  /** Disk size in bytes (the virtual size of a container). */
  bytes: number;
  /** Bytes allocated on disk (a regular file only): the rest are holes. */
  allocatedBytes?: number;
  geometry: { heads: number; sectorsPerTrack: number; sectorSize: number; cylinders: number };
  /** The disk signature (MBR bytes 440-443) as 0x-prefixed hex. */
  diskSignature: string;
  partition: {
    number: 1;
    /** First sector. */
    start: number;
    sectors: number;
    /** Byte offset. */
    offset: number;
    bytes: number;
    type: "83";
    bootable: true;
    align: "cylinder" | "mib";
  };
  filesystem: {
    type: "ext3" | "ext4" | "ext2";
    blockSize: number;
    blocks: number;
    bytes: number;
    inodes: number;
    inodesUsed: number;
    freeBlocks: number;
    journalBlocks: number;
    uuid: string;
    label: string;
  };
  bootloader:
    | {
        kind: "grub";
        grubDir: string;
        coreSectors: number;
        paritySectors: number;
        kernelSector: number;
      }
    | { kind: "none"; reason: string };
  boot: {
    /** Paths inside the filesystem; undefined when none was given or found. */
    kernel: string | undefined;
    initrd: string | undefined;
    cmdline: string;
    configs: string[];
  };
  seconds: number;
}

/** Inputs that cannot be used: the message says which and why. */
export class BuildInputError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "BuildInputError";
  }
}

/** The formats `build` writes: raw, or a container through `@bigfile/vdisk`. */
export const IMAGE_FORMATS: readonly ImageFormat[] = [
  "raw",
  "qcow2",
  "vhd",
  "vhd-fixed",
  "vmdk",
  "vmdk-stream",
];

const BOOT_CONFIGS = ["/boot/grub/grub.cfg", "/boot/grub/menu.lst"];

/**
 * Builds a bootable disk image in one pass: a DOS partition table with one
 * bootable Linux partition (the seed's cylinder layout by default), an ext3
 * filesystem filled from the root trees plus the kernel, initrd and
 * /boot/grub (grub.cfg and menu.lst, read by GRUB and pygrub), and GRUB's
 * boot.img and core.img in the MBR and its gap. Everything that can fail
 * (missing or unreadable inputs, a tree that does not fit, no GRUB when one
 * is required) fails before the output is opened. Into a file, zeros are
 * never written (holes) and file contents are copied by threads; over a
 * pipe every byte flows in order.
 *
 * @example The seed's big file with a Debian kernel
 * ```ts
 * import assert from "node:assert/strict";
 * import { stat } from "node:fs/promises";
 * import { build } from "@bigfile/bigfile";
 * import { mkdir, writeFile } from "node:fs/promises";
 * await mkdir("rootfs/etc", { recursive: true });
 * await writeFile("rootfs/etc/hostname", "demo\n");
 * await writeFile("vmlinuz-6.1.0-56-amd64", "not a real kernel\n");
 * await writeFile("initrd.img-6.1.0-56-amd64", "not a real initrd\n");
 * const report = await build({
 *   output: "big.img", // the seed's: 4141875200 bytes, cylinder-aligned (written sparse: a few MiB on disk)
 *   rootfs: ["rootfs/"],
 *   kernel: "vmlinuz-6.1.0-56-amd64",
 *   initrd: "initrd.img-6.1.0-56-amd64",
 *   serial: true,
 * });
 * assert.equal(report.partition.offset, 32256);
 * assert.equal((await stat("big.img")).size, 4141875200);
 * ```
 */
export async function build(options: BuildOptions): Promise<BuildReport> {
  const started = performance.now();
  // Notes wait until every check has passed: a refusal is one line alone.
  const notes: string[] = [];
  const log = (message: string) => notes.push(message);
  const flushNotes = () => {
    for (const n of notes.splice(0)) options.log?.(n);
  };
  const env = options.env ?? process.env;
  const align = options.align ?? "cylinder";
  const size = options.size ?? SEED_DISK_SIZE;
  const fsType = options.fs ?? "ext3";
  const tempDir = options.tempDir ?? tmpdir();
  checkChoices(options, size);
  checkFormat(options);

  const sources = (options.rootfs ?? []).map(classify);
  if (options.kernel) checkFile(options.kernel, "kernel");
  if (options.initrd) checkFile(options.initrd, "initrd");
  checkOutput(options.output);
  const labelId = diskSignature(options);
  const geometry = { heads: 255, sectorsPerTrack: 63, sectorSize: 512 };
  let plan: WrapPlan | undefined;
  if (size !== "auto") {
    try {
      plan = planWrap({ diskSize: size, align, bootable: true, labelId, geometry });
    } catch (error) {
      throw new BuildInputError(
        `${(error as Error).message} (give a larger --size, or --size auto)`,
      );
    }
  }

  const grub = await resolveGrub(options, env, log);

  // Which kernel the menus name: one given as a file, else the tree's own.
  const found =
    options.kernel && options.initrd
      ? { unknown: false }
      : await findBootFiles(sources.map(bootSource));
  const kernel = options.kernel ? "/boot/vmlinuz" : found.kernel;
  const initrd = options.initrd ? "/boot/initrd.img" : options.kernel ? undefined : found.initrd;
  if (!kernel) {
    log(
      found.unknown
        ? "no --kernel given and the tar on standard input cannot be searched for one: the menus name /boot/vmlinuz and /boot/initrd.img"
        : "no kernel: give --kernel FILE (and --initrd FILE) or put /boot/vmlinuz in the root tree; the image boots to GRUB's menu only, which says so",
    );
  }
  const cmdline = kernelCommandLine(options);
  const menu = {
    kernel: kernel ?? "/boot/vmlinuz",
    initrd: kernel ? (initrd ?? null) : "/boot/initrd.img",
    cmdline,
    serial: options.serial ?? false,
    timeout: options.timeout ?? 0,
    title: options.title ?? "Linux",
  };
  let grubCfg: string;
  let menuLst: string;
  try {
    grubCfg = grubConfig(menu);
    menuLst = grubLegacyMenu(menu);
    // Nothing to boot: a menu that says so rather than one naming missing files.
    if (!kernel && !found.unknown)
      ({ grubCfg, menuLst } = noKernelMenus(menu.serial, menu.timeout));
  } catch (error) {
    throw new BuildInputError((error as Error).message);
  }

  const sde = options.sourceDateEpoch;
  const time = sde ?? (options.seed !== undefined ? 0 : Math.floor(Date.now() / 1000));
  const payload = bootPayload({
    kernel: options.kernel,
    initrd: options.initrd,
    grubDir: grub?.grubDir,
    grubCfg,
    menuLst,
    minimalRoot: sources.length === 0,
    time,
  });
  const format = options.format ?? "raw";
  // Raw, qcow2 and fixed VHD are written by position into a file, file
  // contents by the copy threads; the other containers by vdisk from the stream.
  const toFile =
    (format === "raw" || format === "qcow2" || format === "vhd-fixed") &&
    (typeof options.output === "string" ||
      ("fd" in options.output && canWriteSparse(options.output.fd)));
  const copier = toFile ? createCopier(options.threads) : undefined;
  try {
    const mkfsOptions: MkfsOptions = {
      type: fsType,
      tempDir,
      // mkfs's notes name its own flags: here the disk's size is --size.
      log: (m) => log(m.replace("(give --size or --blocks to choose)", "(give --size to choose)")),
    };
    if (plan) mkfsOptions.size = plan.partitionLength;
    else if (options.free !== undefined) mkfsOptions.freeBytes = options.free;
    for (const key of [
      "blockSize",
      "inodeSize",
      "inodes",
      "bytesPerInode",
      "reservedPercent",
      "label",
      "uuid",
      "features",
      "seed",
      "sourceDateEpoch",
      "rootOwner",
      "squashOwners",
      "deviceTable",
      "writer",
    ] as const) {
      if (options[key] !== undefined) (mkfsOptions as Record<string, unknown>)[key] = options[key];
    }
    if (copier) mkfsOptions.copier = copier;
    let image: MkfsImage;
    try {
      image = await mkfs(
        [...sources, { kind: "tar-stream", stream: payload, label: "bigfile's /boot files" }],
        mkfsOptions,
      );
    } catch (error) {
      throw mkfsError(error, plan);
    }
    try {
      if (!plan)
        plan = planWrap({ partitionSize: image.size, align, bootable: true, labelId, geometry });
      const images = await grubImages(grub);
      const head = await planDiskHead(plan.table, plan.partitionOffset, plan.diskSize, images);
      flushNotes();
      options.onPlanned?.({ files: image.report.inodesUsed, bytes: plan.diskSize });
      const allocatedBytes = await writeDisk(
        options,
        plan,
        head,
        image,
        copier,
        containerIds(options, time),
      );
      return report(
        options,
        plan,
        head,
        image,
        images,
        { kernel, initrd, cmdline },
        allocatedBytes,
        started,
      );
    } finally {
      image.dispose();
    }
  } finally {
    await copier?.close();
  }
}

/** A container format goes to a file, or to a pipe when it can be streamed. */
function checkFormat(options: BuildOptions): void {
  const format = options.format ?? "raw";
  if (!IMAGE_FORMATS.includes(format))
    throw new BuildInputError(
      `Cannot write the image as ${format}: give ${IMAGE_FORMATS.join(", ")}`,
    );
  if (format === "raw" || typeof options.output === "string") return;
  if (!("fd" in options.output))
    throw new BuildInputError(`Cannot write ${format} to a stream: give a path or a descriptor`);
  const streams = format === "vhd-fixed" || format === "vmdk-stream";
  // Only an empty regular file can be written by position (vdisk's sinks).
  if (!streams && !canWriteSparse(options.output.fd))
    throw new BuildInputError(
      `Cannot write ${format} to a pipe or a file being appended to: its tables come before the data; give -o FILE (or --format vhd-fixed / vmdk-stream, which stream)`,
    );
}

function checkChoices(options: BuildOptions, size: number | "auto"): void {
  if (size !== "auto" && (!Number.isSafeInteger(size) || size <= 0))
    throw new BuildInputError(`Cannot make a disk of ${size} bytes: give a positive size or auto`);
  if (options.free !== undefined && size !== "auto")
    throw new BuildInputError("--free sizes the disk: give it with --size auto");
  if (options.align !== undefined && options.align !== "cylinder" && options.align !== "mib")
    throw new BuildInputError(`Cannot align to ${options.align}: give cylinder or mib`);
  if (options.fs !== undefined && !["ext3", "ext4", "ext2"].includes(options.fs))
    throw new BuildInputError(`Cannot make a ${options.fs} filesystem: give ext3, ext4 or ext2`);
  const b = options.bootloader;
  if (b !== undefined && b !== "auto" && b !== "grub" && b !== "none")
    throw new BuildInputError(`Cannot use boot loader ${b}: give auto, grub or none`);
}

function classify(source: RootfsSource): Exclude<MkfsSource, string> {
  if (typeof source !== "string") {
    if (source.kind !== "tar-stream") statSource(source.path);
    return source;
  }
  const st = statSource(source);
  return st.isDirectory() ? { kind: "directory", path: source } : { kind: "tar", path: source };
}

function statSource(path: string): import("node:fs").Stats {
  try {
    const st = statSync(path);
    accessSync(path, constants.R_OK | (st.isDirectory() ? constants.X_OK : 0));
    if (!st.isDirectory() && !st.isFile())
      throw new BuildInputError(`Cannot use root tree ${path}: not a directory or a tar file`);
    return st;
  } catch (error) {
    if (error instanceof BuildInputError) throw error;
    throw new BuildInputError(`Cannot read root tree ${path}: ${errnoText(error)}`);
  }
}

function bootSource(s: Exclude<MkfsSource, string>): BootSource {
  return s.kind === "tar-stream" ? { kind: "tar-stream" } : s;
}

function checkFile(path: string, what: string): void {
  try {
    if (!statSync(path).isFile())
      throw new BuildInputError(`Cannot use ${what} ${path}: not a regular file`);
    accessSync(path, constants.R_OK);
  } catch (error) {
    if (error instanceof BuildInputError) throw error;
    throw new BuildInputError(`Cannot read ${what} ${path}: ${errnoText(error)}`);
  }
}

function checkOutput(output: BuildOutput): void {
  if (typeof output !== "string") return;
  let isDir = false;
  try {
    isDir = statSync(output).isDirectory();
  } catch {
    // A new file.
  }
  if (isDir) throw new BuildInputError(`Cannot write the image to ${output}: it is a directory`);
  const dir = dirname(resolve(output));
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new BuildInputError(`Cannot write the image into ${dir}: ${errnoText(error)}`);
  }
}

function errnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOTDIR") return "a path component is not a directory";
  return (error as Error).message;
}

/** GRUB's boot.img and a core.img for partition 1, or undefined for none. */
/** GRUB's files, found; core.img is being built (grub-mkimage) while mkfs walks the trees. */
interface FoundGrub {
  grubDir: string;
  bootImg: Uint8Array;
  coreImg: Promise<Uint8Array>;
}

/** GRUB's boot.img and a core.img for partition 1, or undefined for none. */
async function resolveGrub(
  options: BuildOptions,
  env: Record<string, string | undefined>,
  log: (message: string) => void,
): Promise<FoundGrub | undefined> {
  const mode = options.bootloader ?? "auto";
  if (mode === "none") return undefined;
  try {
    const grubDir = await findGrubDir(
      options.grubDir ? { grubDir: options.grubDir, env } : { env },
    );
    const mkimage = onPath("grub-mkimage", env);
    if (!mkimage)
      throw new BuildInputError(
        "grub-mkimage is not installed, so core.img cannot be built; install grub-common (Debian, Ubuntu) or grub2-tools (Fedora)",
      );
    const bootImg = new Uint8Array(await readFile(join(grubDir, "boot.img")));
    const coreImg = cachedCoreImage(
      grubDir,
      "(hd0,msdos1)/boot/grub",
      coreModules("msdos"),
      mkimage,
      env,
    );
    // Awaited before any output; a failure elsewhere first must not leave it unhandled.
    coreImg.catch(() => {});
    return { grubDir, bootImg, coreImg };
  } catch (error) {
    if (mode === "grub") throw new BuildInputError((error as Error).message);
    log(
      `no boot loader: ${(error as Error).message}; the image boots only through pygrub or a direct kernel boot`,
    );
    return undefined;
  }
}

/** The path of `name` in one of $PATH's directories, if it is executable there. */
function onPath(name: string, env: Record<string, string | undefined>): string | undefined {
  for (const dir of (env.PATH ?? process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** GRUB's images once core.img is built. */
async function grubImages(
  grub: FoundGrub | undefined,
): Promise<(HeadGrub & { grubDir: string }) | undefined> {
  if (!grub) return undefined;
  try {
    return { grubDir: grub.grubDir, bootImg: grub.bootImg, coreImg: await grub.coreImg };
  } catch (error) {
    throw new BuildInputError((error as Error).message);
  }
}

const NO_KERNEL =
  "no kernel in this image: rebuild it with bigfile build --kernel FILE (and --initrd FILE), or put /boot/vmlinuz in the root tree";

/** grub.cfg and menu.lst for an image without a kernel: GRUB shows why, pygrub finds no entry. */
function noKernelMenus(serial: boolean, timeout: number): { grubCfg: string; menuLst: string } {
  const lines = [
    "# Written by bigfile: no kernel was given or found.",
    "set default=0",
    `set timeout=${timeout}`,
  ];
  if (serial)
    lines.push("serial --unit=0 --speed=115200", "terminal_input serial", "terminal_output serial");
  lines.push("menuentry 'No kernel in this image' {", `\techo '${NO_KERNEL}'`, "\tsleep 10", "}");
  const menuLst = `# Written by bigfile: ${NO_KERNEL}.\ndefault 0\ntimeout ${timeout}\n`;
  return { grubCfg: `${lines.join("\n")}\n`, menuLst };
}

/** `root=DEV ro` then the caller's arguments, unless those name the root themselves. */
function kernelCommandLine(options: BuildOptions): string {
  const extra = (options.cmdline ?? "").trim();
  if (/(^|\s)root=/.test(extra)) return extra;
  const root = options.rootDevice ?? "/dev/sda1";
  if (/\s/.test(root) || root === "")
    throw new BuildInputError(
      `Cannot use root device '${root}': one word, e.g. /dev/sda1 or UUID=...`,
    );
  return `root=${root} ro${extra ? ` ${extra}` : ""}`;
}

/** What makes a build reproducible: the seed, else SOURCE_DATE_EPOCH; undefined: neither. */
function seedText(options: BuildOptions): string | undefined {
  return (
    options.seed ??
    (options.sourceDateEpoch !== undefined
      ? `SOURCE_DATE_EPOCH=${options.sourceDateEpoch}`
      : undefined)
  );
}

/** `length` bytes derived from the seed for `purpose`, else random. */
function seededBytes(options: BuildOptions, purpose: string, length: number): Buffer {
  const text = seedText(options);
  return text !== undefined
    ? createHash("sha256").update(`bigfile ${purpose}\0${text}`).digest().subarray(0, length)
    : randomBytes(length);
}

/** The MBR disk signature: from the seed (or SOURCE_DATE_EPOCH), else random; never 0. */
function diskSignature(options: BuildOptions): number {
  return seededBytes(options, "disk signature", 4).readUInt32LE(0) || 1;
}

/**
 * A container's own ids and time (VHD footer id and timestamp, VMDK CID):
 * from the seed and the build's time, so a reproducible build gives the same
 * container file too; random otherwise.
 */
function containerIds(options: BuildOptions, time: number) {
  return {
    timestamp: new Date(time * 1000),
    uuid: new Uint8Array(seededBytes(options, "container uuid", 16)),
    cid: seededBytes(options, "vmdk cid", 4).readUInt32LE(0),
  };
}

function mkfsError(error: unknown, plan: WrapPlan | undefined): unknown {
  if (!(error instanceof RangeError || error instanceof TypeError)) return error;
  const hint = plan ? " (give a larger --size, or --size auto)" : "";
  return new BuildInputError(`${error.message}${hint}`);
}

/** Writes head, filesystem and tail; returns the bytes allocated for a regular file. */
async function writeDisk(
  options: BuildOptions,
  plan: WrapPlan,
  head: DiskHead,
  image: MkfsImage,
  copier: ReturnType<typeof createCopier>,
  ids: ReturnType<typeof containerIds>,
): Promise<number | undefined> {
  const output = options.output;
  const progress = options.onProgress;
  const r = image.report;
  const files = r.inodesUsed;
  // The work is in the used blocks, which come first; the free space after
  // them streams as holes in no time. Progress counts the used part.
  const used = (r.geometry.blocksCount - r.freeBlocks) * r.geometry.blockSize;
  const total = plan.partitionOffset + used;
  const onProgress = progress
    ? (done: number) => progress(Math.min(total, plan.partitionOffset + done), total, files)
    : undefined;
  const format = options.format ?? "raw";
  const positional = typeof output === "string" || ("fd" in output && canWriteSparse(output.fd));
  // Into a file, every container but vmdk-stream is written by position, as raw is.
  const placement = positional ? containerPlacement(format, plan.diskSize, ids, output) : undefined;
  if (placement) {
    const write = (fd: number) => writeSparse(fd, plan, head, image, copier, onProgress, placement);
    const allocated =
      typeof output === "string"
        ? await writeFileAtomically(output, write)
        : await write((output as { fd: number }).fd);
    progress?.(total, total, files);
    return allocated;
  }
  if (format !== "raw") {
    // vmdk-stream, or a container to a pipe: the disk as parts at offsets
    // (zeros elsewhere), streamed into the container.
    const { chunks } = filesystemOutput(image, onProgress ? { onProgress } : {});
    const raw = rawLayout(plan.diskSize, [
      { offset: 0, data: head.bytes },
      { offset: plan.partitionOffset, data: chunks, length: image.size },
    ]);
    const target = typeof output === "string" ? output : (output as { fd: number }).fd;
    await writeImageTo(raw, format, target, ids);
    progress?.(total, total, files);
    return typeof output === "string" ? statSync(output).blocks * 512 : undefined;
  }
  if (typeof output === "string") {
    // An existing file is replaced only once the new one is whole.
    const allocated = await writeFileAtomically(output, (fd) =>
      writeSparse(fd, plan, head, image, copier, onProgress),
    );
    progress?.(total, total, files);
    return allocated;
  }
  if ("fd" in output && canWriteSparse(output.fd)) {
    const allocated = await writeSparse(output.fd, plan, head, image, copier, onProgress);
    progress?.(total, total, files);
    return allocated;
  }
  const { chunks } = filesystemOutput(image, {
    reuseBuffers: "fd" in output,
    ...(onProgress ? { onProgress } : {}),
  });
  async function* disk(): AsyncGenerator<Uint8Array> {
    yield head.bytes;
    yield* chunks;
    yield* zeroChunks(plan.diskSize - plan.partitionOffset - image.size);
  }
  if ("fd" in output) await writeToFd(disk(), output.fd, { positional: false });
  else for await (const chunk of disk()) await output.write(chunk);
  progress?.(total, total, files);
  return undefined;
}

/** What a container (not vmdk-stream, which streams) is written by position through. */
type ContainerPlacement =
  | Qcow2Placement
  | FixedVhdPlacement
  | DynamicVhdPlacement
  | SparseVmdkPlacement;

/**
 * The placement that writes `format` by position as raw is, the copy threads
 * too: a qcow2's clusters, a dynamic VHD's blocks and a VMDK's grains placed
 * as first written, a fixed VHD's bytes where raw's are; undefined for raw
 * and vmdk-stream.
 */
function containerPlacement(
  format: ImageFormat,
  size: number,
  ids: ReturnType<typeof containerIds>,
  output: BuildOutput,
): ContainerPlacement | undefined {
  const { timestamp, uuid, cid } = ids;
  switch (format) {
    case "qcow2":
      return new Qcow2Placement(size);
    case "vhd-fixed":
      return new FixedVhdPlacement(size, { timestamp, uuid });
    case "vhd":
      return new DynamicVhdPlacement(size, { timestamp, uuid });
    case "vmdk":
      // The descriptor names the file, as writeImageTo's does; a descriptor's file is "disk.vmdk".
      return new SparseVmdkPlacement(size, {
        cid,
        ...(typeof output === "string" ? { extentName: basename(output) } : {}),
      });
    default:
      return undefined;
  }
}

/**
 * Into an empty regular file: the head, the filesystem at its offset, holes
 * for the rest; with a `placement`, the disk in that container (its data
 * where the placement puts it, then the metadata its `finish` writes).
 */
async function writeSparse(
  fd: number,
  plan: WrapPlan,
  head: DiskHead,
  image: MkfsImage,
  copier: ReturnType<typeof createCopier>,
  onProgress: ((done: number) => void) | undefined,
  placement?: ContainerPlacement,
): Promise<number> {
  // Seekable: asked while the file is still empty.
  const sink = placement ? new FdSink(fd) : undefined;
  writeNonZeroBlocks(fd, head.bytes, 0, 512, placement);
  const { chunks, sinkOptions } = filesystemOutput(image, {
    copier,
    reuseBuffers: true,
    ...(onProgress ? { onProgress } : {}),
  });
  await writeToFd(chunks, fd, {
    ...sinkOptions,
    positional: true,
    offset: plan.partitionOffset,
    ...(placement ? { placement } : {}),
  });
  if (placement && sink) await placement.finish(sink);
  else ftruncateSync(fd, plan.diskSize);
  return fstatSync(fd).blocks * 512;
}

function report(
  options: BuildOptions,
  plan: WrapPlan,
  head: DiskHead,
  image: MkfsImage,
  grub: (HeadGrub & { grubDir: string }) | undefined,
  boot: { kernel: string | undefined; initrd: string | undefined; cmdline: string },
  allocatedBytes: number | undefined,
  started: number,
): BuildReport {
  const g = geometryOf(plan.diskSize);
  const p = plan.table.partitions[0] as { start: number; size: number };
  const r = image.report;
  const geo = r.geometry;
  const gp = head.grub;
  const out: BuildReport = {
    output: typeof options.output === "string" ? options.output : "-",
    format: options.format ?? "raw",
    bytes: plan.diskSize,
    geometry: {
      heads: g.heads,
      sectorsPerTrack: g.sectorsPerTrack,
      sectorSize: g.sectorSize,
      cylinders: g.cylinders,
    },
    diskSignature: `0x${(plan.table.labelId >>> 0).toString(16).padStart(8, "0")}`,
    partition: {
      number: 1,
      start: p.start,
      sectors: p.size,
      offset: plan.partitionOffset,
      bytes: plan.partitionLength,
      type: "83",
      bootable: true,
      align: options.align ?? "cylinder",
    },
    filesystem: {
      type: options.fs ?? "ext3",
      blockSize: geo.blockSize,
      blocks: geo.blocksCount,
      bytes: r.bytes,
      inodes: geo.inodesCount,
      inodesUsed: r.inodesUsed,
      freeBlocks: r.freeBlocks,
      journalBlocks: geo.journalBlocks,
      uuid: r.uuid,
      label: options.label ?? "",
    },
    bootloader:
      grub && gp
        ? {
            kind: "grub",
            grubDir: grub.grubDir,
            coreSectors: gp.coreSectors,
            paritySectors: gp.sectors.length - gp.coreSectors,
            kernelSector: gp.sectors[0] as number,
          }
        : {
            kind: "none",
            reason: options.bootloader === "none" ? "--bootloader none" : "GRUB's files not found",
          },
    boot: { ...boot, configs: BOOT_CONFIGS },
    seconds: Math.round(performance.now() - started) / 1000,
  };
  if (allocatedBytes !== undefined) out.allocatedBytes = allocatedBytes;
  return out;
}
