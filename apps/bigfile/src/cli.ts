import { createRequire } from "node:module";
import { type CliIo, createProgram, runProgram } from "@bigfile/cli-kit/node";
import { addBuildCommand } from "./build_command.ts";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/** The `bigfile` command line: `build` makes a bootable disk image, the rest read one. */
export async function main(args: string[], io: CliIo): Promise<number> {
  const program = createProgram("bigfile", version, io);
  program
    .description(
      "Bootable disk images for virtual machines from a root tree and a kernel, without root, loop devices, fdisk, mkfs or grub-install.",
    )
    .addHelpText(
      "after",
      `
Examples:
  bigfile build -o disk.img --rootfs rootfs/ --kernel vmlinuz --initrd initrd.img --serial
  bigfile build -o big.img --size 4141875200 --align cylinder --rootfs root.tar
  bigfile inspect disk.img
  bigfile boot-files disk.img -o boot/        the kernel, initrd and arguments, as pygrub finds them
  bigfile vm-config disk.img --qemu`,
    );
  addBuildCommand(program, io);
  // `bigfile build` does not load the readers (faster start).
  if (args[0] !== "build") {
    const { addReadCommands } = await import("./read_commands.ts");
    addReadCommands(program, io);
  }
  return runProgram(program, args, io);
}
