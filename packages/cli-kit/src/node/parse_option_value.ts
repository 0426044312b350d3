import { InvalidArgumentError } from "commander";

/**
 * Parses an option's or argument's `value` with `parse`, for a commander
 * argument parser: whatever `parse` throws becomes commander's invalid-argument
 * error, which {@linkcode runProgram} reports as a usage error (exit 2) naming
 * the option. Lets a library's parser (sizes, UUIDs) serve a command line
 * without depending on commander itself.
 *
 * @example A size option
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseOptionValue } from "@bigfile/cli-kit/node";
 * export function evenOption(value: string): number {
 *   return parseOptionValue(value, (text) => {
 *     const n = Number(text);
 *     if (n % 2 !== 0) throw new RangeError(`'${text}' is not even`);
 *     return n;
 *   });
 * }
 * assert.equal(evenOption("4"), 4);
 * // commander's InvalidArgumentError: exit 2, naming the option
 * assert.throws(() => evenOption("3"), { code: "commander.invalidArgument", message: "'3' is not even" });
 * ```
 */
export function parseOptionValue<T>(value: string, parse: (value: string) => T): T {
  try {
    return parse(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}
