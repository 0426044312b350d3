import { describe, expect, it } from "vitest";
import { PartitionTableError } from "./errors.ts";
import { formatFdiskListing, formatLegacyListing, humanSize } from "./fdisk_listing.ts";
import type { PartitionTable } from "./partition_table.ts";
import { parseSizeSpec } from "./plan_layout.ts";
import { formatSfdiskJson, parseSfdiskJson } from "./sfdisk_json.ts";
import {
  formatSfdiskDump,
  parseSfdiskScript,
  partitionNode,
  scriptToTable,
} from "./sfdisk_script.ts";

const seed: PartitionTable = {
  labelId: 0xaf960693,
  sectorSize: 512,
  partitions: [
    { number: 1, kind: "primary", start: 63, size: 8080632, type: 0x83, bootable: true },
  ],
};

describe("sfdisk script", () => {
  it("formats the seed as sfdisk --dump prints it", () => {
    expect(formatSfdiskDump(seed, { device: "seed.img" })).toBe(
      "label: dos\nlabel-id: 0xaf960693\ndevice: seed.img\nunit: sectors\nsector-size: 512\n\nseed.img1 : start=          63, size=     8080632, type=83, bootable\n",
    );
    expect(partitionNode("/dev/loop0", 5)).toBe("/dev/loop0p5");
    expect(partitionNode("/dev/sda", 5)).toBe("/dev/sda5");
  });

  it("parses named and positional lines", () => {
    const s = parseSfdiskScript(
      "label: dos\nlabel-id: 0x1234\n# comment\n\nsda1 : start= 63, size= 8080632, type=83, bootable\n,100M,E\n;\n".replace(
        ";\n",
        ",,L,*\n",
      ),
    );
    expect(s.labelId).toBe(0x1234);
    expect(s.partitions).toEqual([
      { number: 1, start: 63, size: { sectors: 8080632 }, type: 0x83, bootable: true },
      { size: { bytes: 100 << 20 }, type: 0x05 },
      { type: 0x83, bootable: true },
    ]);
    expect(
      scriptToTable(parseSfdiskScript(formatSfdiskDump(seed)), { diskSize: 4141875200 }),
    ).toEqual(seed);
  });

  it("reports bad lines with their offset", () => {
    const text = "label: dos\nstart=x\n";
    const error = (() => {
      try {
        parseSfdiskScript(text);
      } catch (e) {
        return e;
      }
    })() as PartitionTableError;
    expect(error).toBeInstanceOf(PartitionTableError);
    expect(error.offset).toBe(11);
    expect(() => parseSfdiskScript("label: gpt\n")).toThrow(/only 'label: dos'/);
    expect(() => parseSfdiskScript("start=1, colour=blue\n")).toThrow(/unknown field/);
  });

  it("parses sizes", () => {
    expect(parseSizeSpec("2048")).toEqual({ sectors: 2048 });
    expect(parseSizeSpec("+100M")).toEqual({ bytes: 100 << 20 });
    expect(parseSizeSpec("1GB")).toEqual({ bytes: 1e9 });
    expect(parseSizeSpec("50%")).toEqual({ percent: 50 });
    expect(parseSizeSpec("+")).toBe("rest");
    expect(() => parseSizeSpec("lots")).toThrow(SyntaxError);
  });
});

describe("sfdisk JSON", () => {
  it("formats and parses the shape of sfdisk --json", () => {
    const text = formatSfdiskJson(seed, "seed.img");
    expect(JSON.parse(text)).toEqual({
      partitiontable: {
        label: "dos",
        id: "0xaf960693",
        device: "seed.img",
        unit: "sectors",
        sectorsize: 512,
        partitions: [{ node: "seed.img1", start: 63, size: 8080632, type: "83", bootable: true }],
      },
    });
    expect(text.startsWith('{\n   "partitiontable": {\n      "label": "dos",')).toBe(true);
    expect(parseSfdiskJson(text)).toEqual(seed);
    expect(() => parseSfdiskJson("{")).toThrow(PartitionTableError);
  });
});

describe("fdisk listings", () => {
  it("prints sizes as util-linux does", () => {
    expect(humanSize(4137283584)).toBe("3.9G");
    expect(humanSize(100 << 20)).toBe("100M");
    expect(humanSize(512)).toBe("512B");
  });

  it("prints the modern listing", () => {
    expect(formatFdiskListing(seed, { device: "seed.img", diskSize: 4141875200 })).toBe(
      "Disk seed.img: 3.86 GiB, 4141875200 bytes, 8089600 sectors\nUnits: sectors of 1 * 512 = 512 bytes\nSector size (logical/physical): 512 bytes / 512 bytes\nI/O size (minimum/optimal): 512 bytes / 512 bytes\nDisklabel type: dos\nDisk identifier: 0xaf960693\n\nDevice     Boot Start     End Sectors  Size Id Type\nseed.img1  *       63 8080694 8080632  3.9G 83 Linux\n",
    );
  });

  it("prints the seed's legacy cylinder listing with 4040316 Blocks", () => {
    const out = formatLegacyListing(
      {
        ...seed,
        partitions: [{ ...(seed.partitions[0] as (typeof seed.partitions)[0]), bootable: false }],
      },
      { device: "/dev/loop0", diskSize: 4141875200 },
    );
    expect(out).toBe(
      "\nDisk /dev/loop0: 4141 MB, 4141875200 bytes\n255 heads, 63 sectors/track, 503 cylinders\nUnits = cylinders of 16065 * 512 = 8225280 bytes\nDisk identifier: 0xaf960693\n\n      Device Boot      Start         End      Blocks   Id  System\n/dev/loop0p1               1         503     4040316   83  Linux\n",
    );
    const odd = formatLegacyListing(
      {
        ...seed,
        partitions: [
          {
            number: 1,
            kind: "primary",
            start: 63,
            size: 16065 * 2 - 63,
            type: 0x82,
            bootable: false,
          },
        ],
      },
      { device: "/dev/sda", diskSize: 4141875200 },
    );
    expect(odd).toContain(
      "/dev/sda1               1           2       16033+  82  Linux swap / Solaris\n",
    );
  });
});
