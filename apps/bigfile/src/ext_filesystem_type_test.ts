// The ext2/ext3/ext4 name bigfile inspect (and the browser page) gives a
// filesystem, against blkid on filesystems that mke2fs made.
import { open } from "node:fs/promises";
import { join } from "node:path";
import { decodeSuperblock } from "@bigfile/ext3fs";
import { execa } from "execa";
import { expect, it } from "vitest";
import { describeWithTools, tempDir } from "../../../test/harness/mod.ts";
import { extFilesystemType } from "./ext_filesystem_type.ts";

const CASES: [string, string[]][] = [
  ["ext2", ["-t", "ext2"]],
  ["ext3", ["-t", "ext3"]],
  ["ext4", ["-t", "ext4"]],
  ["ext3 with extents", ["-t", "ext3", "-O", "extent"]],
  ["ext2 with huge_file", ["-t", "ext2", "-O", "huge_file"]],
];

describeWithTools(
  [
    ["mke2fs", "e2fsprogs"],
    ["blkid", "util-linux"],
  ],
  "extFilesystemType against blkid",
  () => {
    it.each(CASES)("names %s as blkid does", async (_name, options) => {
      const tmp = await tempDir("ext-type");
      try {
        const image = join(tmp.path, "fs.img");
        await execa("mke2fs", ["-q", "-F", ...options, image, "8M"]);
        const blkid = await execa("blkid", ["-p", "-o", "value", "-s", "TYPE", image]);
        const file = await open(image);
        const superblock = new Uint8Array(1024);
        await file.read(superblock, 0, 1024, 1024);
        await file.close();
        expect(extFilesystemType(decodeSuperblock(superblock))).toBe(blkid.stdout.trim());
      } finally {
        await tmp.remove();
      }
    });
  },
);
