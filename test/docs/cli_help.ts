// Reads a built CLI's --help (commander's layout) into its commands and the
// long options of each, so the READMEs can be checked against the real CLI.
import { execa } from "execa";

/** A bin's command (`""` for the bin itself) and the long options its help lists. */
export interface CommandHelp {
  command: string;
  options: string[];
}

/** The lines of a help section (`Options:`, `Commands:`) up to the next blank line. */
export function helpSection(help: string, title: string): string[] {
  const lines = help.split("\n");
  const start = lines.indexOf(`${title}:`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.trim() === "");
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** The long options of an `Options:` section, without --help and --version (every command has them). */
export function longOptions(help: string): string[] {
  return helpSection(help, "Options")
    .filter((l) => /^ {2}-/.test(l))
    .flatMap((l) =>
      [...(l.trim().split(/ {2,}/)[0] ?? "").matchAll(/--[a-z][\w-]*/g)].map((m) => m[0]),
    )
    .filter((o) => o !== "--help" && o !== "--version");
}

/** The subcommands a `Commands:` section lists, without commander's `help`. */
export function subcommands(help: string): string[] {
  return helpSection(help, "Commands")
    .filter((l) => /^ {2}\S/.test(l))
    .map((l) => l.trim().split(/\s/)[0] ?? "")
    .filter((c) => c !== "help");
}

async function helpOf(binPath: string, args: string[]): Promise<string> {
  const { stdout } = await execa("node", [binPath, ...args, "--help"], {
    env: { COLUMNS: "200" },
  });
  return stdout;
}

/** The bin itself and each of its commands, with their long options. */
export async function readCliHelp(binPath: string): Promise<CommandHelp[]> {
  const root = await helpOf(binPath, []);
  const commands: CommandHelp[] = [{ command: "", options: longOptions(root) }];
  for (const command of subcommands(root)) {
    commands.push({ command, options: longOptions(await helpOf(binPath, [command])) });
  }
  return commands;
}
