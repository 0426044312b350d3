import { parseOptionValue } from "@bigfile/cli-kit/node";
import { parseSize } from "../size.ts";

/**
 * A commander argument parser for sizes: bytes (`4141875200`), binary
 * suffixes (`4G`, `512M`), decimal ones (`4GB`) and sectors (`8080632s`), as
 * {@linkcode parseSize} reads them. A bad size is a usage error (exit 2)
 * naming the option.
 *
 * @example A size option
 * ```ts
 * import { createProgram, memoryIo } from "@bigfile/cli-kit/node";
 * import { sizeOption } from "@bigfile/blockdev/stdio";
 * const program = createProgram("tool", "1.0.0", memoryIo());
 * program.option("--size <SIZE>", "image size", sizeOption);
 * ```
 */
export function sizeOption(value: string): number {
  return parseOptionValue(value, parseSize);
}
