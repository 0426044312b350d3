/**
 * A streaming tar codec: {@linkcode readTar} reads ustar, pax, GNU and v7
 * archives member by member with streamed bodies; {@linkcode writeTar}
 * writes ustar with pax extended headers where needed.
 *
 * @example Usage
 * ```ts
 * import { readTar, writeTar } from "@bigfile/blockdev";
 * const archive = writeTar([{ path: "hello.txt", type: "file", body: new TextEncoder().encode("hi\n") }]);
 * for await (const entry of readTar(archive)) console.log(entry.path, entry.size);
 * ```
 *
 * @module
 */
export * from "./read_tar.ts";
export * from "./tar_header.ts";
export * from "./tar_path.ts";
export * from "./tar_syntax_error.ts";
export * from "./write_tar.ts";
