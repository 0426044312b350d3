/**
 * The parts of the bigfile CLI runtime that any JavaScript runtime can use:
 * the typed exit errors ({@linkcode ExitError}, {@linkcode UsageError} for
 * exit 2), one-line error descriptions ({@linkcode describeError}) and the
 * `--json` text of a report ({@linkcode jsonText}). The runtime itself (standard
 * streams, commander, the `bin/` shim) is Node-specific: `@bigfile/cli-kit/node`.
 *
 * @example An error as a tool reports it
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeError, UsageError } from "@bigfile/cli-kit";
 * assert.equal(describeError(new UsageError("missing IMAGE argument")), "missing IMAGE argument");
 * ```
 *
 * @module
 */
export * from "./describe_error.ts";
export * from "./exit_error.ts";
export * from "./json_text.ts";
