import { parseOptionValue } from "./parse_option_value.ts";

/**
 * A commander argument parser for non-negative integers (decimal or 0x hex).
 *
 * @example An integer option
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgram, integerOption, memoryIo, runProgram } from "@bigfile/cli-kit/node";
 * const io = memoryIo();
 * const program = createProgram("tool", "1.0.0", io);
 * program.option("--partition <N>", "partition number", integerOption).action(() => {});
 * assert.equal(await runProgram(program, ["--partition", "0x10"], io), 0);
 * assert.equal(program.opts().partition, 16);
 * assert.equal(await runProgram(createProgram("tool", "1.0.0", io).option("--n <N>", "", integerOption), ["--n", "-1"], io), 2);
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
