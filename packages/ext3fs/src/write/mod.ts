/**
 * The streamed ext2/ext3 writer.
 *
 * @module
 */

export type { EmitOptions, RangeCopier } from "./_emit.ts";
export { MkfsPlanError } from "./_plan.ts";
export * from "./device_table.ts";
export * from "./filesystem_output.ts";
export * from "./geometry.ts";
export * from "./mkfs.ts";
export * from "./tree.ts";
