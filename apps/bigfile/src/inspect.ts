/**
 * bigfile's inspection without Node: `inspectDevice()` reads a disk image
 * from any `BlockDevice` (a `Blob` in a browser, a file, memory) and returns
 * the report `bigfile inspect --json` prints — geometry, partition table,
 * filesystems, boot code and GRUB's prefix, GRUB menus, checks;
 * `formatInspection()` makes the text `bigfile inspect` prints. No `node:*`
 * module is reached: this subpath bundles for the browser (apps/web uses it).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryDevice } from "@bigfile/blockdev";
 * import { formatInspection, inspectDevice } from "@bigfile/bigfile/inspect";
 * const report = await inspectDevice(new MemoryDevice(new Uint8Array(1 << 20)), { image: "zeros.img" });
 * assert.match(formatInspection(report), /^zeros\.img: 1048576 bytes \(1 MiB\)\n/);
 * ```
 *
 * @module
 */

export * from "./boot_volumes.ts";
export * from "./ext_filesystem_type.ts";
export * from "./format_inspection.ts";
export * from "./grub_menu.ts";
export * from "./image_inspection.ts";
export * from "./inspect_device.ts";
