/**
 * A value as pretty JSON, one document, newline-terminated: what `--json` prints.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonText } from "@bigfile/cli-kit";
 * assert.equal(jsonText({ bytes: 512 }), '{\n  "bytes": 512\n}\n');
 * ```
 */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
