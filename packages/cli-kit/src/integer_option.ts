import { parseOptionValue } from "./parse_option_value.ts";

/**
 * A commander argument parser for non-negative integers (decimal or 0x hex).
 *
 * @example An integer option
 * ```ts
 * import { createProgram, integerOption, memoryIo } from "@bigfile/cli-kit/node";
 * const program = createProgram("tool", "1.0.0", memoryIo());
 * program.option("--partition <N>", "partition number", integerOption);
 * ```
 */
export function integerOption(value: string): number {
  return parseOptionValue(value, (text) => {
    const n = /^0x[0-9a-f]+$/i.test(text)
      ? Number.parseInt(text, 16)
      : /^\d+$/.test(text)
        ? Number(text)
        : Number.NaN;
    if (!Number.isSafeInteger(n)) throw new RangeError(`'${text}' is not a non-negative integer`);
    return n;
  });
}
