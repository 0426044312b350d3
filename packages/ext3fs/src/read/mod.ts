export * from "./check_filesystem.ts";
export * from "./errors.ts";
export * from "./filesystem_reader.ts";
export * from "./tar_stream.ts";
