import type { BootInspection } from "@bigfile/grub-mbr";
import { volumeName } from "./_volume_name.ts";
import type { ImageInspection } from "./image_inspection.ts";

/** `n bytes`, or the nearest binary unit to one decimal (`3.9 GiB`). */
function describeBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${Math.round(v * 10) / 10} ${units[u]}`;
}

const BOOT_CODE_NAMES: Record<BootInspection["bootCode"], string> = {
  grub2: "GRUB 2 (boot.img)",
  "grub-legacy": "GRUB Legacy (stage1)",
  syslinux: "syslinux MBR",
  other: "other boot code",
  none: "none (zeros)",
};

/**
 * How reports name the boot code grub-mbr's `inspectBoot` found in sector 0.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { bootCodeName } from "@bigfile/bigfile/inspect";
 * assert.equal(bootCodeName("grub2"), "GRUB 2 (boot.img)");
 * ```
 */
export function bootCodeName(code: BootInspection["bootCode"]): string {
  return BOOT_CODE_NAMES[code];
}

/**
 * The report of {@linkcode inspectDevice} (and `inspectImage`) as text for people: geometry,
 * table, filesystems, boot code, menus, then the checks.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatInspection, inspectImage } from "@bigfile/bigfile";
 * import { mkdir, writeFile } from "node:fs/promises";
 * import { build } from "@bigfile/bigfile";
 * await mkdir("rootfs/etc", { recursive: true });
 * await writeFile("rootfs/etc/hostname", "demo\n");
 * await writeFile("vmlinuz", "not a real kernel\n");
 * await writeFile("initrd.img", "not a real initrd\n");
 * await build({ output: "disk.img", size: "auto", rootfs: ["rootfs/"], kernel: "vmlinuz", initrd: "initrd.img" });
 * const text = formatInspection(await inspectImage("disk.img"));
 * assert.match(text, /ok: table, filesystems and boot files agree/);
 * ```
 */
export function formatInspection(report: ImageInspection): string {
  const g = report.geometry;
  const out: string[] = [];
  out.push(`${report.image}: ${report.bytes} bytes (${describeBytes(report.bytes)})`);
  out.push(
    `Geometry: ${g.heads} heads, ${g.sectorsPerTrack} sectors/track, ${g.cylinders} cylinders of ${g.cylinderBytes} bytes${g.lostBytes ? ` (${g.lostBytes} bytes past the last whole cylinder)` : ""}`,
  );
  out.push("");
  if (report.listing) out.push(report.listing.trimEnd());
  else out.push("No DOS partition table.");
  out.push("");
  out.push("Filesystems:");
  for (const p of report.partitions) {
    const name = p.number === 0 ? "  whole disk" : `  partition ${p.number}`;
    if (p.kind === "extended") {
      out.push(`${name}: extended partition (holds the logical ones)`);
    } else if (p.filesystem) {
      const f = p.filesystem;
      out.push(
        `${name}: ${f.type}, ${f.blockCount} blocks of ${f.blockSize} bytes (${f.bytes} bytes), label ${f.label ? `'${f.label}'` : "none"}, UUID ${f.uuid}, ${describeBytes(f.freeBytes)} free, ${f.state}${p.problem ? `; cannot be read: ${p.problem}` : ""}`,
      );
    } else {
      out.push(`${name}: ${p.content === "empty" ? "no filesystem (zeros)" : (p.content ?? "-")}`);
    }
  }
  out.push("");
  const b = report.boot;
  out.push(
    `Boot code: ${bootCodeName(b.bootCode)}${b.bootSignature ? "" : ", no 0x55AA boot signature"}`,
  );
  if (b.grub) {
    const c = b.grub.core;
    out.push(
      `  core.img at sector ${c.sector}, ${c.sectors} sectors; Reed-Solomon: ${c.integrity}${c.problem ? ` (${c.problem})` : ""}`,
    );
    if (b.prefix) out.push(`  prefix: ${b.prefix.prefix}`);
    else if (b.prefixProblem) out.push(`  prefix: cannot be read (${b.prefixProblem})`);
  }
  if (b.grubLegacy) out.push(`  stage2 at sector ${b.grubLegacy.stage2Sector}`);
  out.push("");
  if (report.menus.length === 0) out.push("Boot menus: none (no grub.cfg or menu.lst found)");
  else out.push("Boot menus:");
  for (const m of report.menus) {
    const kind = m.kind === "grub2" ? "GRUB 2" : "GRUB Legacy";
    out.push(
      `  ${volumeName(m.partition)} ${m.config} (${kind}${m.pygrub ? ", what pygrub reads" : ""})${m.default !== undefined ? `, default ${m.default}` : ""}${m.problem ? `: ${m.problem}` : ""}`,
    );
    for (const [i, e] of m.entries.entries()) {
      out.push(
        `    ${i} '${e.title}': kernel ${e.kernel ?? "(none)"}${e.initrd ? `, initrd ${e.initrd}` : ""}${e.args ? `, args ${e.args}` : ""}`,
      );
    }
  }
  out.push("");
  const errors = report.checks.filter((c) => c.level === "error").length;
  const warnings = report.checks.length - errors;
  out.push("Checks:");
  for (const c of report.checks) out.push(`  ${c.level}: ${c.message}`);
  out.push(
    errors === 0
      ? `  ok${warnings ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : ": table, filesystems and boot files agree"}`
      : `  ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`,
  );
  return `${out.join("\n")}\n`;
}
