import { afterEach, describe, expect, it, vi } from "vitest";
import { findTool, haveTools, isCI, missingTools, ROOT, requireTool } from "./tools.ts";

const saved = process.env.CI;
afterEach(() => {
  if (saved === undefined) delete process.env.CI;
  else process.env.CI = saved;
  vi.restoreAllMocks();
});

describe("tools", () => {
  it("finds tools on PATH, in sbin and in Debian's off-PATH homes", () => {
    expect(findTool("sh")).toMatch(/\/sh$/);
    expect(findTool("/")).toBe("/");
    expect(findTool("no-such-tool-bigfile")).toBeUndefined();
    expect(findTool("/no/such/dir")).toBeUndefined();
  });

  it("reads CI like CI systems set it", () => {
    for (const [value, expected] of [
      ["true", true],
      ["1", true],
      ["", false],
      ["0", false],
      ["false", false],
    ] as const) {
      process.env.CI = value;
      expect(isCI()).toBe(expected);
    }
    delete process.env.CI;
    expect(isCI()).toBe(false);
  });

  it("in CI a missing tool throws, naming the Debian package", () => {
    process.env.CI = "true";
    expect(() => requireTool("no-such-tool-bigfile", "bigfile-pkg")).toThrow(
      "no-such-tool-bigfile not found — apt-get install bigfile-pkg",
    );
    expect(() => haveTools([["no-such-tool-bigfile", "bigfile-pkg"]])).toThrow(/bigfile-pkg/);
  });

  it("outside CI a missing tool warns once, loudly, and says skip", () => {
    delete process.env.CI;
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(requireTool("no-such-tool-bigfile-2", "pkg-2")).toBeUndefined();
    expect(requireTool("no-such-tool-bigfile-2", "pkg-2")).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toBe(
      "SKIPPING real-system tier: no-such-tool-bigfile-2 not found — apt-get install pkg-2",
    );
    expect(requireTool("sh")).toMatch(/\/sh$/);
  });

  it("treats root as a pseudo-tool", () => {
    expect(findTool(ROOT)).toBe(process.getuid?.() === 0 ? "root" : undefined);
  });

  it("lists missing tools with their packages from the table", () => {
    expect(missingTools(["sh", "no-such-tool-bigfile", ["nope-2", "pkg-x"]])).toEqual([
      "no-such-tool-bigfile not found — apt-get install no-such-tool-bigfile",
      "nope-2 not found — apt-get install pkg-x",
    ]);
  });
});
