import { InvalidArgumentError } from "commander";
import { parseSize } from "../size.ts";

/** A commander argument parser for sizes (`4G`, `8080632s`, bytes). */
export function sizeOption(value: string): number {
  try {
    return parseSize(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** A commander argument parser for non-negative integers (decimal or 0x hex). */
export function integerOption(value: string): number {
  const n = /^0x[0-9a-f]+$/i.test(value)
    ? Number.parseInt(value, 16)
    : /^\d+$/.test(value)
      ? Number(value)
      : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new InvalidArgumentError(`'${value}' is not a non-negative integer`);
  return n;
}

/** Prints a value as pretty JSON, one document, newline-terminated. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
