// Each README against its real CLI: the sections every README has, in one
// order, and per command a section with an example and an options table that
// names every long option the command's --help lists, so they cannot drift.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type CommandHelp, readCliHelp } from "./cli_help.ts";
import { extractMarkdownBlocks } from "./extract_examples.ts";
import {
  commandSection,
  readmeSections,
  tableFirstCells,
  tableNamesOption,
} from "./readme_sections.ts";
import { REPO_ROOT } from "./run_example.ts";

interface Documented {
  dir: string;
  name: string;
  bin?: string;
}

const DOCUMENTED: Documented[] = [
  { dir: "packages/chs-geometry", name: "@bigfile/chs-geometry", bin: "chs-geometry" },
  { dir: "packages/blockdev", name: "@bigfile/blockdev", bin: "blockdev" },
  { dir: "packages/mbr", name: "@bigfile/mbr", bin: "mbr" },
  { dir: "packages/ext3fs", name: "@bigfile/ext3fs", bin: "ext3fs" },
  { dir: "packages/grub-mbr", name: "@bigfile/grub-mbr", bin: "grub-mbr" },
  { dir: "packages/vdisk", name: "@bigfile/vdisk", bin: "vdisk" },
  { dir: "packages/cli-kit", name: "@bigfile/cli-kit" },
  { dir: "apps/bigfile", name: "@bigfile/bigfile", bin: "bigfile" },
];

/** The level-2 sections every README has, in this order (CLI only for packages with a bin). */
const REQUIRED = ["Install", "Library", "CLI", "Exit codes", "What it does not do"];

describe.each(DOCUMENTED)("$dir/README.md", ({ dir, name, bin }) => {
  const text = readFileSync(join(REPO_ROOT, dir, "README.md"), "utf8");
  const sections = readmeSections(text);

  it(`has ${REQUIRED.join(", ")} in this order, after one paragraph on what it is for`, () => {
    const required = REQUIRED.filter((t) => bin || t !== "CLI");
    const found = sections
      .filter((s) => s.level === 2 && required.includes(s.title))
      .map((s) => s.title);
    expect(found).toEqual(required);
    const intro = text.split(/\n## /)[0] ?? "";
    expect(
      intro.replace(/^#.*$/m, "").trim().length,
      "a paragraph under the title",
    ).toBeGreaterThan(80);
  });

  it(`says how to install: npm install ${name}`, () => {
    const install = sections.find((s) => s.level === 2 && s.title === "Install");
    expect(install?.lines.join("\n")).toContain(`npm install ${name}`);
  });

  it("has a library example in ts or js", () => {
    const library = sections.find((s) => s.level === 2 && s.title === "Library");
    const blocks = extractMarkdownBlocks(library?.lines.join("\n") ?? "", dir);
    expect(blocks.filter((b) => b.lang === "ts" || b.lang === "js").length).toBeGreaterThan(0);
  });

  if (!bin) return;
  let help: CommandHelp[] = [];
  beforeAll(async () => {
    help = await readCliHelp(join(REPO_ROOT, dir, "bin", `${bin}.js`));
  });

  it("documents each command: a section with a shell example and every long option of --help in its table", () => {
    const commands = help.map((h) => h.command).filter((c) => c !== "");
    const problems: string[] = [];
    for (const { command, options } of help) {
      // A bin with subcommands and no options of its own needs no section for itself.
      if (command === "" && commands.length > 0 && options.length === 0) continue;
      const title = command ? `${bin} ${command}` : bin;
      const section = commandSection(sections, bin, command, commands);
      if (!section) {
        problems.push(`no section headed "${title}"`);
        continue;
      }
      const shells = extractMarkdownBlocks(section.lines.join("\n"), dir).filter(
        (b) => b.lang === "sh",
      );
      const invokes = new RegExp(`(^|[\\s|$])${title}(\\s|$)`, "m");
      if (!shells.some((b) => invokes.test(b.code)))
        problems.push(`"${title}": no sh example that runs it`);
      const cells = tableFirstCells(section);
      for (const option of options) {
        if (!tableNamesOption(cells, option))
          problems.push(`"${title}": ${option} is not in the options table`);
      }
    }
    expect(problems).toEqual([]);
  });
});
