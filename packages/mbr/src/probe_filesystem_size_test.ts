// The probe against images the real tools make (mke2fs, mkswap, mkfs.vfat, mkfs.xfs,
// mkfs.btrfs, mksquashfs), each size checked with the tool's own reader (dumpe2fs, xfs_db,
// btrfs inspect-internal, unsquashfs) or the size given to the maker, each type with blkid -p;
// then the same heads mutated at random: undefined, a sane size or the typed error, never a crash.
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { describeWithTools } from "../../../test/harness/tools.ts";
import { crc32c } from "./_crc32c.ts";
import { readAt, rng, scratchDir, sparseFile } from "./_test_tools.ts";
import { FilesystemProbeError } from "./errors.ts";
import {
  type FilesystemSize,
  PROBE_HEAD_BYTES,
  probeFilesystemSize,
} from "./probe_filesystem_size.ts";

const { dir, cleanup } = scratchDir("mbr-probe-");
afterAll(cleanup);
const KiB = 1024;
const MiB = 1 << 20;

function head(path: string): Uint8Array {
  return readAt(path, 0, PROBE_HEAD_BYTES);
}

/** blkid's low-level probe of a file: its `KEY=value` lines as an object. */
async function blkid(path: string): Promise<Record<string, string>> {
  const { stdout } = await execa("blkid", ["-p", "-o", "export", path]);
  return Object.fromEntries(stdout.split("\n").map((l) => l.split("=", 2) as [string, string]));
}

/** A field of `dumpe2fs -h`. */
function dumpe2fsField(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+)$`, "m").exec(text);
  if (!m) throw new Error(`dumpe2fs printed no '${name}'`);
  return Number(m[1]);
}

/** A copy of `bytes` with the byte at `at` changed. */
function changed(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = (copy[at] as number) ^ 0x20;
  return copy;
}

/** Every head mutated `rounds` times: the probe never throws anything but its typed error. */
function survivesMutations(bytes: Uint8Array, seed: number, rounds = 300): void {
  const random = rng(seed);
  for (let round = 0; round < rounds; round++) {
    const copy = bytes.slice();
    const flips = 1 + Math.floor(random() * 8);
    for (let i = 0; i < flips; i++) {
      // Mostly where the headers live: the first 8 KiB and btrfs's superblock at 64 KiB.
      const at =
        random() < 0.8
          ? Math.floor(random() * 8192)
          : 0x10000 + Math.floor(random() * Math.min(4096, copy.length - 0x10000));
      if (at < copy.length) copy[at] = Math.floor(random() * 256);
    }
    let result: FilesystemSize | undefined;
    try {
      result = probeFilesystemSize(copy);
    } catch (error) {
      expect(error).toBeInstanceOf(FilesystemProbeError);
      continue;
    }
    if (result) {
      expect(Number.isSafeInteger(result.bytes)).toBe(true);
      expect(result.bytes).toBeGreaterThan(0);
    }
  }
}

describe("probeFilesystemSize on hand-made heads", () => {
  it("computes the standard CRC-32C", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("recognises nothing in zeros, short heads and random bytes", () => {
    expect(probeFilesystemSize(new Uint8Array(0))).toBeUndefined();
    expect(probeFilesystemSize(new Uint8Array(PROBE_HEAD_BYTES))).toBeUndefined();
    const random = rng(7);
    for (let i = 0; i < 50; i++) {
      const bytes = Uint8Array.from({ length: 4096 + Math.floor(random() * 70_000) }, () =>
        Math.floor(random() * 256),
      );
      expect(probeFilesystemSize(bytes)).toBeUndefined();
    }
  });

  it("reads a minimal ext2 superblock and refuses absurd ones", () => {
    const bytes = new Uint8Array(4096);
    const sb = new DataView(bytes.buffer, 1024);
    sb.setUint32(0, 128, true); // inodes
    sb.setUint32(4, 3000, true); // blocks
    sb.setUint32(20, 0, true); // first data block
    sb.setUint32(24, 2, true); // 4 KiB blocks
    sb.setUint32(32, 32768, true); // blocks per group
    sb.setUint32(36, 32768, true);
    sb.setUint32(40, 128, true); // inodes per group
    sb.setUint16(56, 0xef53, true);
    sb.setUint32(76, 1, true);
    expect(probeFilesystemSize(bytes)).toEqual({ type: "ext2", bytes: 3000 * 4096 });
    sb.setUint32(92, 0x4, true); // has_journal
    expect(probeFilesystemSize(bytes)).toEqual({ type: "ext3", bytes: 3000 * 4096 });
    sb.setUint32(96, 0x40, true); // extents
    expect(probeFilesystemSize(bytes)).toEqual({ type: "ext4", bytes: 3000 * 4096 });
    // 64bit: the high half counts; 2^32 * 2^32 blocks of 4 KiB is past 2^53: not a size.
    sb.setUint32(96, 0xc0, true);
    sb.setUint32(0x150, 1, true);
    expect(probeFilesystemSize(bytes)?.bytes).toBe((2 ** 32 + 3000) * 4096);
    sb.setUint32(0x150, 0xffffffff, true);
    expect(probeFilesystemSize(bytes)).toBeUndefined();
    sb.setUint32(0x150, 0, true);
    for (const [at, value] of [
      [24, 7], // 128 KiB blocks
      [4, 0], // no blocks
      [32, 0], // no blocks per group
      [32, 40000], // a bitmap longer than a block
      [76, 9], // an unknown revision
      [0, 0], // no inodes
    ] as const) {
      const copy = bytes.slice();
      new DataView(copy.buffer, 1024).setUint32(at, value, true);
      expect(probeFilesystemSize(copy), `field ${at} = ${value}`).toBeUndefined();
    }
    // metadata_csum with a wrong checksum: not trusted.
    sb.setUint32(100, 0x400, true);
    bytes[1024 + 0x175] = 1;
    expect(probeFilesystemSize(bytes)).toBeUndefined();
    sb.setUint32(0x3fc, ~crc32c(bytes.subarray(1024, 1024 + 0x3fc)) >>> 0, true);
    expect(probeFilesystemSize(bytes)).toEqual({ type: "ext4", bytes: 3000 * 4096 });
    expect(probeFilesystemSize(bytes.subarray(0, 2047))).toBeUndefined();
  });

  it("reads a swap header in either byte order", () => {
    for (const little of [true, false]) {
      const bytes = new Uint8Array(8192);
      const view = new DataView(bytes.buffer);
      view.setUint32(1024, 1, little);
      view.setUint32(1028, 99, little);
      bytes.set(new TextEncoder().encode("SWAPSPACE2"), 8192 - 10);
      expect(probeFilesystemSize(bytes)).toEqual({ type: "swap", bytes: 100 * 8192 });
      view.setUint32(1032, 5000, little); // more bad pages than the header holds
      expect(probeFilesystemSize(bytes)).toBeUndefined();
    }
  });

  it("refuses a head whose headers disagree, naming both", () => {
    const bytes = new Uint8Array(8192);
    const sb = new DataView(bytes.buffer, 1024);
    sb.setUint32(0, 16, true);
    sb.setUint32(4, 100, true);
    sb.setUint32(20, 1, true);
    sb.setUint32(32, 8192, true);
    sb.setUint32(36, 8192, true);
    sb.setUint32(40, 16, true);
    sb.setUint16(56, 0xef53, true);
    const view = new DataView(bytes.buffer);
    bytes.set(new TextEncoder().encode("SWAPSPACE2"), 4096 - 10);
    // The swap header shares the ext superblock's bytes: version 16 is not 1.
    expect(probeFilesystemSize(bytes)).toEqual({ type: "ext2", bytes: 102400 });
    view.setUint32(1024, 1, true); // s_inodes_count 1 reads as swap version 1
    view.setUint32(1028, 24, true); // and s_blocks_count 24 as last_page: 25 pages of 4 KiB
    sb.setUint32(32, 24, true);
    sb.setUint32(36, 24, true);
    let caught: unknown;
    try {
      probeFilesystemSize(bytes);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FilesystemProbeError);
    expect((caught as FilesystemProbeError).code).toBe("ambiguous");
    expect((caught as Error).message).toMatch(
      /disagree, ext2 \(24576 bytes\) and swap \(102400 bytes\)$/,
    );
  });
});

describeWithTools(
  ["mke2fs", "dumpe2fs", ["blkid", "util-linux"]],
  "probe: ext2/3/4 from mke2fs",
  () => {
    const cases: Array<{ name: string; args: string[]; blocks: number; blockSize: number }> = [
      { name: "ext2 1k", args: ["-t", "ext2"], blocks: 10000, blockSize: 1024 },
      { name: "ext2 4k", args: ["-t", "ext2"], blocks: 4001, blockSize: 4096 },
      { name: "ext3 1k", args: ["-t", "ext3"], blocks: 20001, blockSize: 1024 },
      { name: "ext3 4k", args: ["-t", "ext3"], blocks: 8192, blockSize: 4096 },
      { name: "ext4 4k", args: ["-t", "ext4"], blocks: 12345, blockSize: 4096 },
      {
        name: "ext4 1k 64bit",
        args: ["-t", "ext4", "-O", "64bit"],
        blocks: 30000,
        blockSize: 1024,
      },
      {
        name: "ext4 without metadata_csum or 64bit",
        args: ["-t", "ext4", "-O", "^metadata_csum,^64bit"],
        blocks: 9000,
        blockSize: 4096,
      },
      {
        name: "ext4 bigalloc",
        args: ["-t", "ext4", "-O", "bigalloc", "-C", "65536"],
        blocks: 50000,
        blockSize: 4096,
      },
      { name: "jbd", args: ["-O", "journal_dev"], blocks: 4096, blockSize: 4096 },
    ];
    for (const c of cases) {
      it(`${c.name}: blocks x block size, as dumpe2fs says; the type blkid says`, async () => {
        const path = sparseFile(join(dir, `${c.name.replaceAll(" ", "_")}.img`), 300 * MiB);
        await execa("mke2fs", [
          "-q",
          "-F",
          ...c.args,
          "-b",
          String(c.blockSize),
          path,
          String(c.blocks),
        ]);
        const probed = probeFilesystemSize(head(path));
        const dump = (await execa("dumpe2fs", ["-h", path], { reject: false })).stdout;
        expect(dumpe2fsField(dump, "Block count")).toBe(c.blocks);
        expect(dumpe2fsField(dump, "Block size")).toBe(c.blockSize);
        expect(probed).toEqual({ type: (await blkid(path)).TYPE, bytes: c.blocks * c.blockSize });
        // With metadata_csum a changed byte (here in the volume name) fails the checksum.
        if (/metadata_csum/.test(dump))
          expect(probeFilesystemSize(changed(head(path), 1024 + 120))).toBeUndefined();
        survivesMutations(head(path), c.blocks);
      });
    }

    it("ext4 64bit past 2^32 blocks: the high half of the count", async () => {
      // 4299161600 1-KiB blocks (4 TiB, sparse); bigalloc keeps the metadata small.
      const path = sparseFile(join(dir, "huge.img"), 4100 * 1024 * MiB);
      await execa("mke2fs", [
        "-q",
        "-F",
        "-t",
        "ext4",
        "-O",
        "64bit,bigalloc,^resize_inode,^has_journal",
        "-b",
        "1024",
        "-C",
        "65536",
        "-N",
        "65536",
        "-E",
        "lazy_itable_init=1,nodiscard",
        path,
      ]);
      const dump = (await execa("dumpe2fs", ["-h", path], { reject: false })).stdout;
      const blocks = dumpe2fsField(dump, "Block count");
      expect(blocks).toBeGreaterThan(2 ** 32);
      expect(probeFilesystemSize(head(path))).toEqual({ type: "ext4", bytes: blocks * 1024 });
    });
  },
);

describeWithTools(
  [
    ["mkswap", "util-linux"],
    ["blkid", "util-linux"],
  ],
  "probe: swap from mkswap",
  () => {
    for (const pageSize of [4096, 65536]) {
      it(`page size ${pageSize}: the area mkswap was given`, async () => {
        const path = sparseFile(join(dir, `swap-${pageSize}.img`), 40 * MiB + 3 * KiB);
        await execa("mkswap", ["-q", "--pagesize", String(pageSize), path]);
        expect((await blkid(path)).TYPE).toBe("swap");
        // mkswap uses whole pages of the file.
        const bytes = Math.floor((40 * MiB + 3 * KiB) / pageSize) * pageSize;
        expect(probeFilesystemSize(head(path))).toEqual({ type: "swap", bytes });
        survivesMutations(head(path), pageSize);
      });
    }

    it("a swap area smaller than its file: the size given to mkswap", async () => {
      const path = sparseFile(join(dir, "swap-small.img"), 64 * MiB);
      await execa("mkswap", ["-q", "--pagesize", "4096", path, String(10 * 1024)]); // KiB
      expect(probeFilesystemSize(head(path))).toEqual({ type: "swap", bytes: 10 * MiB });
    });
  },
);

describeWithTools(
  [
    ["mkfs.vfat", "dosfstools"],
    ["fsck.fat", "dosfstools"],
    ["blkid", "util-linux"],
  ],
  "probe: FAT from mkfs.vfat",
  () => {
    const cases: Array<{ fat: 12 | 16 | 32; kib: number; extra?: string[] }> = [
      { fat: 12, kib: 1440 },
      { fat: 12, kib: 8001 },
      { fat: 16, kib: 20000 },
      { fat: 16, kib: 200000 },
      { fat: 32, kib: 40000 },
      { fat: 32, kib: 300000 },
      { fat: 32, kib: 300000, extra: ["-S", "4096"] },
    ];
    for (const c of cases) {
      it(`FAT${c.fat} of ${c.kib} KiB ${c.extra?.join(" ") ?? ""}: the sectors fsck.fat counts`, async () => {
        const path = sparseFile(
          join(dir, `fat${c.fat}-${c.kib}-${c.extra ? 1 : 0}.img`),
          400 * MiB,
        );
        await execa("mkfs.vfat", ["-F", String(c.fat), ...(c.extra ?? []), path, String(c.kib)]);
        expect((await blkid(path)).VERSION).toBe(`FAT${c.fat}`);
        // dosfstools' own reader; mkfs.vfat may round the count down to whole tracks.
        const { stdout } = await execa("fsck.fat", ["-n", "-v", path]);
        const sectors = Number(/^\s*(\d+) sectors total$/m.exec(stdout)?.[1]);
        const sectorSize = Number(/^\s*(\d+) bytes per logical sector$/m.exec(stdout)?.[1]);
        expect(sectors * sectorSize).toBeLessThanOrEqual(c.kib * KiB);
        expect(sectors * sectorSize).toBeGreaterThan(c.kib * KiB - 64 * sectorSize);
        expect(probeFilesystemSize(head(path))).toEqual({
          type: `fat${c.fat}`,
          bytes: sectors * sectorSize,
        });
        survivesMutations(head(path), c.kib);
      });
    }
  },
);

describeWithTools(
  [
    ["mkfs.xfs", "xfsprogs"],
    ["xfs_db", "xfsprogs"],
    ["blkid", "util-linux"],
  ],
  "probe: XFS from mkfs.xfs",
  () => {
    for (const [size, extra] of [
      ["300m", []],
      ["1234567k", ["-b", "size=1024", "-m", "crc=0"]],
    ] as const) {
      it(`-d size=${size} ${extra.join(" ")}: dblocks x blocksize, as xfs_db says`, async () => {
        const path = sparseFile(join(dir, `xfs-${size}.img`), 2 * 1024 * MiB);
        await execa("mkfs.xfs", ["-q", "-f", ...extra, "-d", `size=${size}`, path]);
        expect((await blkid(path)).TYPE).toBe("xfs");
        const { stdout } = await execa("xfs_db", [
          "-r",
          "-c",
          "sb 0",
          "-c",
          "p dblocks blocksize",
          path,
        ]);
        const [dblocks, blocksize] = [/dblocks = (\d+)/, /blocksize = (\d+)/].map((re) =>
          Number(re.exec(stdout)?.[1]),
        ) as [number, number];
        expect(probeFilesystemSize(head(path))).toEqual({
          type: "xfs",
          bytes: dblocks * blocksize,
        });
        // A v5 superblock's CRC covers the name (sb_fname at 108); a v4 one has none.
        const renamed = probeFilesystemSize(changed(head(path), 108));
        expect(renamed).toEqual(
          extra.length === 0 ? undefined : { type: "xfs", bytes: dblocks * blocksize },
        );
        survivesMutations(head(path), dblocks);
      });
    }
  },
);

describeWithTools(
  [
    ["mkfs.btrfs", "btrfs-progs"],
    ["btrfs", "btrfs-progs"],
    ["blkid", "util-linux"],
  ],
  "probe: btrfs from mkfs.btrfs",
  () => {
    for (const [size, extra] of [
      ["200M", []],
      ["333M", ["--csum", "xxhash", "--nodesize", "65536"]],
    ] as const) {
      it(`-b ${size} ${extra.join(" ")}: dev_item.total_bytes, as dump-super says`, async () => {
        const path = sparseFile(join(dir, `btrfs-${size}.img`), 1024 * MiB);
        await execa("mkfs.btrfs", ["-q", "-f", ...extra, "-b", size, path]);
        expect((await blkid(path)).TYPE).toBe("btrfs");
        const { stdout } = await execa("btrfs", ["inspect-internal", "dump-super", path]);
        const bytes = Number(/^dev_item\.total_bytes\s+(\d+)$/m.exec(stdout)?.[1]);
        expect(bytes).toBe(Number.parseInt(size, 10) * MiB);
        expect(probeFilesystemSize(head(path))).toEqual({ type: "btrfs", bytes });
        // The label (at 0x12b) under a crc32c checksum: changed, not trusted.
        const relabelled = probeFilesystemSize(changed(head(path), 0x10000 + 0x12b));
        expect(relabelled).toEqual(extra.length === 0 ? undefined : { type: "btrfs", bytes });
        survivesMutations(head(path), bytes);
      });
    }
  },
);

describeWithTools(
  [
    ["mksquashfs", "squashfs-tools"],
    ["unsquashfs", "squashfs-tools"],
    ["blkid", "util-linux"],
  ],
  "probe: squashfs from mksquashfs",
  () => {
    it("bytes_used (as unsquashfs -s says) padded to 4 KiB: the image's length", async () => {
      const tree = join(dir, "sqtree");
      mkdirSync(tree, { recursive: true });
      const random = rng(3);
      for (let i = 0; i < 20; i++)
        writeFileSync(
          join(tree, `f${i}`),
          Uint8Array.from({ length: 5000 * i }, () => Math.floor(random() * 256)),
        );
      const path = join(dir, "sq.img");
      await execa("mksquashfs", [tree, path, "-quiet", "-noappend", "-no-progress"]);
      expect((await blkid(path)).TYPE).toBe("squashfs");
      const { stdout } = await execa("unsquashfs", ["-s", path]);
      const used = Number(/Filesystem size (\d+) bytes/.exec(stdout)?.[1]);
      const length = statSync(path).size;
      expect(length).toBe(Math.ceil(used / 4096) * 4096);
      expect(probeFilesystemSize(head(path))).toEqual({ type: "squashfs", bytes: length });
      survivesMutations(head(path), used);
    });
  },
);
