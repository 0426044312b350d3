// Cylinder-aligned tables written by `fdisk -c=dos -u=cylinders` (the old DOS-compatible mode of
// the seed's era): we read them as sfdisk does, list the same cylinders, and our cylinder planner
// reproduces every byte of them (sector 0 and each EBR).
import { join } from "node:path";
import { FileDevice } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../test/harness/tools.ts";
import { readAt, rng, scratchDir, sparseFile } from "./_test_tools.ts";
import { main } from "./cli.ts";
import { encodeTable } from "./encode_table.ts";
import { type PartitionRequest, planLayout } from "./plan_layout.ts";
import { readPartitions } from "./read_partitions.ts";

const hasFdisk = await haveTool("fdisk", "fdisk");
const { dir, cleanup } = scratchDir("mbr-fdisk-dos-");
afterAll(cleanup);
const DISK = 4141875200;

describe.skipIf(!hasFdisk)("tables written by fdisk -c=dos -u=cylinders", () => {
  for (let round = 0; round < 8; round++) {
    const random = rng(900 + round);
    const primaries = 1 + Math.floor(random() * 2);
    const logicals = 1 + Math.floor(random() * 4);
    const cyl = () => 5 + Math.floor(random() * 60);
    let commands = "o\n";
    for (let i = 1; i <= primaries; i++) commands += `n\np\n${i}\n\n+${cyl()}\n`;
    commands += `n\ne\n${primaries + 1}\n\n\n`;
    for (let i = 0; i < logicals; i++)
      commands += `n\nl\n\n${i === logicals - 1 && random() < 0.5 ? "" : `+${cyl()}`}\n`;
    commands += "a\n1\nw\n";
    it(`${primaries} primary, ${logicals} logical`, async () => {
      const img = sparseFile(join(dir, `dos${round}.img`), DISK);
      const r = await execa("fdisk", ["-c=dos", "-u=cylinders", img], {
        input: commands,
        reject: false,
      });
      expect(r.exitCode).toBe(0);
      for (const flag of ["--json", "--dump"]) {
        const io = memoryIo();
        expect(await main(["print", flag, img], io)).toBe(0);
        expect(io.stdoutText()).toBe(`${(await execa("sfdisk", [flag, img])).stdout}\n`);
      }
      // Cylinder numbers of the legacy listing equal fdisk's.
      const io = memoryIo();
      await main(["print", "--units", "cylinders", img], io);
      const ours = io
        .stdoutText()
        .split("\n")
        .filter((l) => l.startsWith(img))
        .map((l) => l.replace("*", "").trim().split(/\s+/).slice(0, 3));
      const theirs = (await execa("fdisk", ["-l", "-u=cylinders", img])).stdout
        .split("\n")
        .filter((l) => l.startsWith(img))
        .map((l) => l.replace("*", "").trim().split(/\s+/).slice(0, 3));
      expect(ours).toEqual(theirs);
      expect(ours).toHaveLength(primaries + 1 + logicals);

      // Our cylinder planner, given the same sizes, writes the same bytes.
      const dev = await FileDevice.open(img, { readOnly: true });
      const table = await readPartitions(dev);
      await dev.close();
      const requests: PartitionRequest[] = table.partitions.map((p) => ({
        kind: p.kind,
        type: p.type,
        bootable: p.bootable,
        size: { sectors: p.size },
      }));
      const planned = planLayout(requests, {
        diskSize: DISK,
        align: "cylinder",
        labelId: table.labelId,
      });
      expect(planned.partitions.map((p) => [p.number, p.start, p.size, p.ebr])).toEqual(
        table.partitions.map((p) => [p.number, p.start, p.size, p.ebr]),
      );
      for (const s of encodeTable(planned)) {
        const at = s.lba * 512;
        expect(Buffer.from(readAt(img, at + 0x1b8, 72)).toString("hex"), `sector ${s.lba}`).toBe(
          Buffer.from(s.bytes.subarray(0x1b8)).toString("hex"),
        );
      }
    });
  }
});
