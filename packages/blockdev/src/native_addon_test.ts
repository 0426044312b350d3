import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadNativeAddon } from "./native_addon.ts";

// The addon the build made (CI fails without it: see file_ranges_test.ts).
const platform = `${process.platform}-${process.arch}`;
const built = fileURLToPath(
  new URL(`../dist/native/${platform}/data_regions.node`, import.meta.url),
);
const dir = mkdtempSync(join(tmpdir(), "native-addon-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A package `name` under `root/node_modules` whose dist holds `addon` as `<file>.node`. */
function installed(root: string, name: string, file: string, addon: string | Uint8Array) {
  const place = join(root, "node_modules", name, "dist", "native", platform);
  mkdirSync(place, { recursive: true });
  if (typeof addon === "string") copyFileSync(addon, join(place, `${file}.node`));
  else writeFileSync(join(place, `${file}.node`), addon);
}

type Regions = { dataRegions: unknown } | null;

describe("loadNativeAddon", () => {
  it("finds the package's own addon beside its dist module", () => {
    const from = new URL("../dist/node.js", import.meta.url);
    const addon = loadNativeAddon(from, "@bigfile/blockdev", "data_regions") as Regions;
    expect(typeof addon?.dataRegions).toBe("function");
  });

  it("finds another package's addon in node_modules of a directory above (a bundle's case)", () => {
    const project = join(dir, "project");
    installed(project, "@x/tool", "regions", built);
    const bundle = pathToFileURL(join(project, "apps", "cli", "dist", "cli.bundle.js"));
    const addon = loadNativeAddon(bundle, "@x/tool", "regions") as Regions;
    expect(typeof addon?.dataRegions).toBe("function");
    // Another name or package is not found there.
    expect(loadNativeAddon(bundle, "@x/tool", "other")).toBeNull();
    expect(loadNativeAddon(bundle, "@x/none", "regions")).toBeNull();
  });

  it("gives null, not an error, for an addon that cannot be loaded", () => {
    const project = join(dir, "broken");
    installed(project, "@x/broken", "regions", new TextEncoder().encode("not an ELF file"));
    const from = pathToFileURL(join(project, "src", "mod.js"));
    expect(loadNativeAddon(from, "@x/broken", "regions")).toBeNull();
  });
});
