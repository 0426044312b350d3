import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { decodeDirBlock } from "./dir_entry.ts";
import { decodeGroupDescriptor, encodeGroupDescriptor } from "./group_descriptor.ts";
import { decodeInode, encodeInode } from "./inode.ts";
import { decodeJournalSuperblock, encodeJournalSuperblock } from "./journal_superblock.ts";
import { decodeSuperblock, encodeSuperblock } from "./superblock.ts";

describe("format codecs against an image made by mke2fs", () => {
  it("decode and re-encode every structure byte for byte", async (t) => {
    if (!(await haveTool("mke2fs", "e2fsprogs"))) return t.skip();
    const dir = await mkdtemp(join(tmpdir(), "ext3fs-format-"));
    try {
      const img = join(dir, "a.img");
      await execa("truncate", ["-s", "8M", img]);
      await execa("mke2fs", ["-q", "-F", "-t", "ext3", "-L", "lbl", img]);
      const image = new Uint8Array(await readFile(img));
      const raw = image.subarray(1024, 2048);
      const sb = decodeSuperblock(raw);
      expect(sb.blocksCount).toBe(8192);
      expect(sb.inodeSize).toBe(256);
      expect(new TextDecoder().decode(sb.volumeName)).toBe("lbl");
      expect(encodeSuperblock(sb)).toEqual(raw.slice());
      const bs = 1024 << sb.logBlockSize;
      const gdRaw = image.subarray(2 * bs, 2 * bs + 32);
      const gd = decodeGroupDescriptor(gdRaw);
      expect(encodeGroupDescriptor(gd)).toEqual(gdRaw.slice());
      const root = gd.inodeTable * bs + sb.inodeSize;
      const rootRaw = image.subarray(root, root + sb.inodeSize);
      const inode = decodeInode(rootRaw);
      expect(inode.mode & 0o170000).toBe(0o040000);
      expect(encodeInode(inode, sb.inodeSize)).toEqual(rootRaw.slice());
      const dirBlock = image.subarray(
        (inode.block[0] as number) * bs,
        (inode.block[0] as number) * bs + bs,
      );
      const names = decodeDirBlock(dirBlock).map((e) => new TextDecoder().decode(e.name));
      expect(names).toEqual([".", "..", "lost+found"]);
      const jino = gd.inodeTable * bs + 7 * sb.inodeSize;
      const journal = decodeInode(image.subarray(jino, jino + sb.inodeSize));
      const jsbRaw = image.subarray(
        (journal.block[0] as number) * bs,
        (journal.block[0] as number) * bs + 1024,
      );
      const jsb = decodeJournalSuperblock(jsbRaw);
      expect(jsb.maxlen).toBe(1024);
      expect(encodeJournalSuperblock(jsb)).toEqual(jsbRaw.slice());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
