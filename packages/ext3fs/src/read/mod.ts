export * from "./check_filesystem.ts";
export * from "./errors.ts";
export * from "./extract_to_directory_file.ts";
export * from "./filesystem_reader.ts";
export * from "./open_image_file.ts";
export * from "./tar_stream.ts";
