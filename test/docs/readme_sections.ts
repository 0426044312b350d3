// Finds a README's sections by heading, for the checks in cli_docs_test.ts.

/** A heading and the lines below it up to the next heading of the same or a higher level. */
export interface Section {
  level: number;
  title: string;
  lines: string[];
}

export function readmeSections(text: string): Section[] {
  const lines = text.split("\n");
  const headings: { level: number; title: string; index: number }[] = [];
  let inFence = false;
  lines.forEach((line, index) => {
    if (/^\s*```/.test(line)) inFence = !inFence;
    const m = inFence ? null : /^(#{1,6}) (.*)$/.exec(line);
    if (m)
      headings.push({
        level: m[1]?.length ?? 0,
        title: (m[2] ?? "").replaceAll("`", "").trim(),
        index,
      });
  });
  return headings.map((h, i) => {
    const next = headings.slice(i + 1).find((n) => n.level <= h.level);
    return { level: h.level, title: h.title, lines: lines.slice(h.index + 1, next?.index) };
  });
}

/**
 * The section documenting `bin command` (a heading such as "mbr wrap" or
 * "`mbr wrap [options] [partition]`"); for the bin itself (command ""), a
 * heading that names the bin followed by no subcommand.
 */
export function commandSection(
  sections: Section[],
  bin: string,
  command: string,
  commands: string[],
): Section | undefined {
  return sections.find((s) => {
    const [first, second] = s.title.split(/\s+/);
    if (first !== bin) return false;
    return command === "" ? second === undefined || !commands.includes(second) : second === command;
  });
}

/** The first cells of the section's table rows (header and separator rows included). */
export function tableFirstCells(section: Section): string[] {
  return section.lines
    .filter((l) => l.trimStart().startsWith("|"))
    .map((l) => l.split("|")[1] ?? "");
}

/** Whether a table's first cells name an option (`--align`, not `--align-foo`). */
export function tableNamesOption(cells: string[], option: string): boolean {
  const re = new RegExp(`${option}(?![\\w-])`);
  return cells.some((c) => re.test(c));
}
