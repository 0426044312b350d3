/**
 * The real-system test harness: the standard tools (sfdisk, e2fsck, debugfs,
 * grub-bios-setup, pygrub, QEMU) as oracles, the cached boot fixtures, and a
 * seeded tree generator. Import it by relative path from any package's tests.
 *
 * @example Boot an image and check it with the real tools
 * ```ts
 * import { bootFixtures, bootQemu, describeWithTools, e2fsck, GUEST_MARKERS } from "../../../test/harness/mod.ts";
 *
 * describeWithTools(["qemu-system-x86_64", "e2fsck"], "boots", () => {
 *   it("reaches the initramfs", async () => {
 *     const r = await bootQemu(image, { markers: [GUEST_MARKERS.doneOk], stopOn: [GUEST_MARKERS.done] });
 *     expect(r.markers[GUEST_MARKERS.doneOk]).toBe(true);
 *     expect((await e2fsck(image, { offset: 32256 })).problems).toEqual([]);
 *   }, 120_000);
 * });
 * ```
 *
 * @module
 */
export * from "./boot_files.ts";
export * from "./check_image.ts";
export * from "./compare_trees.ts";
export * from "./debugfs.ts";
export * from "./e2fsck.ts";
export * from "./fixtures.ts";
export * from "./grub_bios_setup.ts";
export * from "./grub_mkimage.ts";
export * from "./guest.ts";
export * from "./make_tree.ts";
export * from "./pygrub.ts";
export * from "./qemu.ts";
export * from "./reference_image.ts";
export * from "./sfdisk.ts";
export * from "./temp_dir.ts";
export * from "./tools.ts";
