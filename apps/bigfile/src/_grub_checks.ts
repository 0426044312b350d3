import type { BlockDevice } from "@bigfile/blockdev";
import type { FilesystemReader } from "@bigfile/ext3fs";
import { readGrubPrefix } from "./_grub_prefix.ts";
import { volumeName } from "./_volume_name.ts";
import { isRegularFile } from "./_volumes.ts";
import { BOOT_CONFIG_PATHS, parseGrubMenu } from "./grub_menu.ts";
import type { BootReport, CheckLevel, MenuReport, PartitionReport } from "./image_inspection.ts";

/** Records one finding. */
export type AddCheck = (
  level: CheckLevel,
  code: string,
  message: string,
  partition?: number,
) => void;

/**
 * GRUB 2's core.img: damaged or missing, and whether the prefix compiled into
 * it names a partition and directory that exist (else GRUB stops at `grub rescue>`).
 * Sets `boot.prefix` or `boot.prefixProblem`.
 */
export async function checkGrubCore(
  disk: BlockDevice,
  boot: BootReport,
  partitions: PartitionReport[],
  readers: Map<number, FilesystemReader>,
  add: AddCheck,
): Promise<void> {
  const core = boot.grub?.core;
  if (!core) return;
  if (core.integrity === "unreadable") {
    add(
      "error",
      "grub-core",
      `GRUB's boot.img loads core.img from sector ${core.sector}, which holds none${core.problem ? ` (${core.problem})` : ""}`,
    );
    return;
  }
  if (core.integrity === "damaged") {
    add(
      "error",
      "grub-core",
      `GRUB's core.img at sector ${core.sector} is damaged beyond what its Reed-Solomon parity repairs (${core.damagedBytes} bytes)`,
    );
  }
  try {
    const prefix = await readGrubPrefix(disk, core);
    if (prefix) boot.prefix = prefix;
  } catch (error) {
    boot.prefixProblem = (error as Error).message;
    add(
      "warning",
      "grub-prefix",
      `cannot read the prefix in GRUB's core.img: ${boot.prefixProblem}`,
    );
    return;
  }
  const prefix = boot.prefix;
  if (!prefix || prefix.partition === undefined) return;
  const n = prefix.partition;
  const target = partitions.find((p) => p.number === n && p.kind !== "disk");
  const head = `GRUB's core.img looks for its modules and grub.cfg in ${prefix.prefix}`;
  if (!target) {
    add("error", "grub-prefix", `${head}, but the disk has no partition ${n}`);
    return;
  }
  const reader = readers.get(n);
  if (!reader) {
    if (target.content && target.content !== "empty" && target.content !== "unknown") {
      add(
        "warning",
        "grub-prefix",
        `${head}: partition ${n} holds ${target.content}, which bigfile cannot look into`,
        n,
      );
    } else {
      add("error", "grub-prefix", `${head}, but partition ${n} holds no filesystem`, n);
    }
    return;
  }
  let isDirectory = false;
  try {
    isDirectory = (await reader.stat(prefix.path)).type === "directory";
  } catch {}
  if (!isDirectory) {
    add("error", "grub-prefix", `${head}, but partition ${n} has no ${prefix.path}`, n);
  }
}

/**
 * The GRUB menus (grub.cfg, menu.lst) of each filesystem, parsed as
 * `bigfile boot-files` and pygrub read them, with a finding for each entry
 * whose kernel or initrd is not a file there.
 */
export async function readMenus(
  readers: Map<number, FilesystemReader>,
  add: AddCheck,
): Promise<MenuReport[]> {
  const menus: MenuReport[] = [];
  for (const [n, reader] of readers) {
    for (const c of BOOT_CONFIG_PATHS) {
      if (!(await isRegularFile(reader, c.path))) continue;
      const report: MenuReport = {
        partition: n,
        config: c.path,
        kind: c.kind,
        pygrub: false,
        entries: [],
      };
      menus.push(report);
      const name = `${volumeName(n)}: ${c.path}`;
      try {
        const menu = parseGrubMenu(
          new TextDecoder().decode(await reader.readFile(c.path, { maxBytes: 1 << 20 })),
          c.kind,
        );
        report.default = menu.default;
        report.entries = menu.entries;
        for (const w of menu.warnings) add("warning", "menu", `${name}: ${w}`, n);
        if (menu.entries.length === 0) add("warning", "menu", `${name} has no menu entries`, n);
      } catch (error) {
        report.problem = (error as Error).message;
        add("error", "menu", `${name}: ${report.problem}`, n);
        continue;
      }
      for (const [i, entry] of report.entries.entries()) {
        const label = `${name} entry ${i} '${entry.title}'`;
        if (!entry.kernel) {
          add("warning", "menu", `${label} names no kernel`, n);
          continue;
        }
        for (const [what, path] of [
          ["kernel", entry.kernel],
          ["initrd", entry.initrd],
        ] as const) {
          if (path !== undefined && !(await isRegularFile(reader, path))) {
            add(
              "error",
              "missing-boot-file",
              `${label} names the ${what} ${path}, which is not a file in ${volumeName(n)}`,
              n,
            );
          }
        }
      }
    }
  }
  return menus;
}
