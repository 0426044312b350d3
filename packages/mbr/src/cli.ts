import type { CliIo } from "@bigfile/blockdev/cli-kit";
/** The `mbr` command line (work in progress). */
export function main(_args: string[], io: CliIo): Promise<number> {
  io.stderr.write("mbr: not yet implemented\n");
  return Promise.resolve(1);
}
