// Every figure of the seed (reference/the-big-file.txt), through the library, the CLI and sfdisk.
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { MemoryDevice } from "@bigfile/blockdev";
import { FileDevice } from "@bigfile/blockdev/node";
import { memoryIo } from "@bigfile/cli-kit/node";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../test/harness/tools.ts";
import { readAt, scratchDir, sparseFile } from "./_test_tools.ts";
import { main } from "./cli.ts";
import { formatLegacyListing } from "./fdisk_listing.ts";
import { findPartition } from "./find_partition.ts";
import { planLayout } from "./plan_layout.ts";
import { readPartitions } from "./read_partitions.ts";
import { planWrap } from "./wrap_partition.ts";
import { writeTable } from "./write_table.ts";

const hasSfdisk = await haveTool("sfdisk", "fdisk");
const { dir, cleanup } = scratchDir("mbr-seed-");
afterAll(cleanup);
const bin = resolve(import.meta.dirname, "../bin/mbr.js");

describe("the seed's layout", () => {
  it("plans one partition from sector 63 to 8080694 with cylinder alignment", () => {
    const table = planLayout([{ type: 0x83 }], { diskSize: 4141875200, align: "cylinder" });
    expect(table.partitions).toEqual([
      { number: 1, kind: "primary", start: 63, size: 8080632, type: 0x83, bootable: false },
    ]);
    const p = table.partitions[0] as { start: number; size: number };
    expect(p.start * 512).toBe(32256);
    expect(p.size * 512).toBe(4137283584);
    expect(p.start + p.size - 1).toBe(8080694);
    expect(formatLegacyListing(table, { device: "/dev/loop0", diskSize: 4141875200 })).toContain(
      "255 heads, 63 sectors/track, 503 cylinders\nUnits = cylinders of 16065 * 512 = 8225280 bytes\n",
    );
  });

  it("plans the wrap of a 4137283584-byte partition on a 4141875200-byte disk", () => {
    const plan = planWrap({ partitionSize: 4137283584, diskSize: 4141875200, align: "cylinder" });
    expect(plan.partitionOffset).toBe(32256);
    expect(plan.partitionLength).toBe(4137283584);
    expect(plan.table.partitions[0]).toMatchObject({ start: 63, size: 8080632 });
    // Without a disk size: the smallest disk of whole cylinders, 503 of them.
    expect(planWrap({ partitionSize: 4137283584, align: "cylinder" }).diskSize).toBe(4137315840);
  });

  it("finds partition 1 at byte 32256 in a table written to an image", async () => {
    const disk = new MemoryDevice(new Uint8Array(64 * 512));
    const table = planLayout([{ type: 0x83 }], { diskSize: 4141875200, align: "cylinder" });
    // A small device holds sector 0 only; the table describes the seed's disk.
    await writeTable(new FileDeviceLike(disk, 4141875200), table);
    const found = await findPartition(new FileDeviceLike(disk, 4141875200), 1);
    expect(found).toMatchObject({ offset: 32256, length: 4137283584, start: 63, size: 8080632 });
  });
});

/** A view of a small memory device that claims a bigger size (reads past its bytes give zeros). */
class FileDeviceLike extends MemoryDevice {
  override readonly size: number;
  constructor(inner: MemoryDevice, size: number) {
    super(inner.bytes);
    this.size = size;
  }
  override read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    out.set(this.bytes.subarray(offset, Math.min(offset + length, this.bytes.length)));
    return Promise.resolve(out);
  }
}

describe.skipIf(!hasSfdisk)(
  "mbr wrap --align cylinder --disk-size 4141875200 (the seed's big file)",
  () => {
    const part = join(dir, "part.img");
    const disk = join(dir, "big.img");

    it("gives a 4141875200-byte disk that sfdisk reads as start 63, size 8080632", {
      timeout: 120_000,
    }, async () => {
      sparseFile(part, 4137283584);
      // Mark the partition's first and last bytes to check where they land.
      await execa("dd", [`of=${part}`, "bs=1", "seek=0", "conv=notrunc", "status=none"], {
        input: "FIRST",
      });
      await execa(
        "dd",
        [`of=${part}`, "bs=1", `seek=${4137283584 - 4}`, "conv=notrunc", "status=none"],
        { input: "LAST" },
      );
      // Real file descriptors: stdin and stdout are files, as in `mbr wrap < part.img > big.img`.
      const result = await execa(
        "sh",
        [
          "-c",
          'node "$0" wrap --align cylinder --disk-size 4141875200 --bootable --label-id 0x5eed0001 < "$1" > "$2"',
          bin,
          part,
          disk,
        ],
        { reject: false },
      );
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(statSync(disk).size).toBe(4141875200);
      const json = JSON.parse((await execa("sfdisk", ["--json", disk])).stdout);
      expect(json.partitiontable).toMatchObject({
        label: "dos",
        id: "0x5eed0001",
        unit: "sectors",
      });
      expect(json.partitiontable.partitions).toEqual([
        { node: `${disk}1`, start: 63, size: 8080632, type: "83", bootable: true },
      ]);
      expect(new TextDecoder().decode(readAt(disk, 32256, 5))).toBe("FIRST");
      expect(new TextDecoder().decode(readAt(disk, 32256 + 4137283584 - 4, 4))).toBe("LAST");
      // The bytes past the partition are zeros up to the end.
      expect([...readAt(disk, 32256 + 4137283584, 4096)].every((b) => b === 0)).toBe(true);
    });

    it("lists the legacy table with 4040316 Blocks, like the seed's fdisk", async () => {
      const io = memoryIo();
      expect(
        await main(["print", "--units", "cylinders", "--device", "/dev/loop0", disk], io),
      ).toBe(0);
      const out = io.stdoutText();
      expect(out).toContain("255 heads, 63 sectors/track, 503 cylinders");
      expect(out).toContain("Units = cylinders of 16065 * 512 = 8225280 bytes");
      expect(out).toContain("      Device Boot      Start         End      Blocks   Id  System\n");
      expect(out).toContain("/dev/loop0p1   *           1         503     4040316   83  Linux\n");
    });

    it("prints exactly what sfdisk --json and sfdisk --dump print, and fdisk -l's table", async () => {
      for (const [flag, tool] of [
        ["--json", ["--json", disk]],
        ["--dump", ["--dump", disk]],
      ] as const) {
        const io = memoryIo();
        expect(await main(["print", flag, disk], io)).toBe(0);
        expect(io.stdoutText()).toBe(`${(await execa("sfdisk", [...tool])).stdout}\n`);
      }
      const io = memoryIo();
      await main(["print", disk], io);
      const fdisk = (await execa("fdisk", ["-l", disk])).stdout;
      const tail = (text: string) => text.trim().split("\n").slice(-2).join("\n");
      expect(tail(io.stdoutText())).toBe(tail(fdisk));
    });

    it("extracts partition 1 back: same length, same first and last bytes, holes kept", {
      timeout: 120_000,
    }, async () => {
      const out = join(dir, "part-out.img");
      const io = memoryIo();
      expect(await main(["extract", "1", disk, "-o", out], io)).toBe(0);
      expect(statSync(out).size).toBe(4137283584);
      expect(new TextDecoder().decode(readAt(out, 0, 5))).toBe("FIRST");
      expect(new TextDecoder().decode(readAt(out, 4137283584 - 4, 4))).toBe("LAST");
      expect(statSync(out).blocks * 512).toBeLessThan(1 << 20);
    });

    it("finds the partition at byte 32256 with readPartitions/findPartition", async () => {
      const dev = await FileDevice.open(disk, { readOnly: true });
      try {
        const table = await readPartitions(dev);
        expect(table.gpt).toBe(false);
        expect(table.labelId).toBe(0x5eed0001);
        expect(await findPartition(dev, 1)).toMatchObject({ offset: 32256, length: 4137283584 });
      } finally {
        await dev.close();
      }
    });
  },
);
