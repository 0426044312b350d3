import { execa } from "execa";

/** Runs `e2fsck -fn` and returns the exit code and any line that is not a pass header or summary. */
export async function fsckProblems(
  image: string,
  fix = false,
): Promise<{ exitCode: number; problems: string[]; output: string }> {
  const r = await execa("e2fsck", [fix ? "-fy" : "-fn", image], { reject: false });
  // Each stream on its own: interleaved, e2fsck's version line (stderr) can
  // land inside a pass header (stdout) on a loaded machine.
  const output = `${r.stderr}\n${r.stdout}`;
  const problems = output
    .split("\n")
    .filter(
      (line) =>
        line.trim() !== "" &&
        !/^Pass \d[A-Z]?: /.test(line) &&
        !/^e2fsck \d/.test(line) &&
        !/: \d+\/\d+ files \(/.test(line),
    );
  return { exitCode: r.exitCode ?? -1, problems, output };
}
