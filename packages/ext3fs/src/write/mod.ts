/**
 * The streamed ext2/ext3 writer.
 *
 * @module
 */

export { MkfsPlanError } from "./_errors.ts";
export type { EmitOptions, RangeCopier } from "./_output_options.ts";
export * from "./device_table.ts";
export * from "./filesystem_output.ts";
export * from "./geometry.ts";
export * from "./mkfs.ts";
export * from "./tree.ts";
