// The realistic tree: a debootstrapped Debian minbase root (about 200 MB,
// 6.8k entries) through `mke2fs -t ext3 -d`, judged by e2fsck and by debugfs
// against the source tree. Proves the harness on a real system's tree (and
// gives the benchmarks their fixture).
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  compareTrees,
  type DebianRoot,
  debianRoot,
  debugfsTree,
  describeWithTools,
  e2fsck,
  makeReferenceImage,
  ROOT,
  type TempDir,
  tempDir,
} from "../harness/mod.ts";

describeWithTools(
  [ROOT, "debootstrap", "mke2fs", "e2fsck", "debugfs", "sfdisk"],
  "Debian root fixture",
  () => {
    let tmp: TempDir;
    let debian: DebianRoot;

    beforeAll(async () => {
      debian = await debianRoot();
      tmp = await tempDir("debian");
    }, 900_000);

    afterAll(async () => {
      await tmp?.remove();
    });

    it("mke2fs -d copies it faithfully, as e2fsck and debugfs see it", async () => {
      expect(debian.entries).toBeGreaterThan(5000);
      const image = await makeReferenceImage(join(tmp.path, "debian.img"), {
        root: debian.root,
        size: 512 << 20,
        grub: false,
      });
      const fsck = await e2fsck(image.path, { offset: image.offset });
      expect(fsck.problems).toEqual([]);
      expect(fsck.exitCode).toBe(0);
      const tree = await debugfsTree(image.path, { offset: image.offset });
      expect(tree.entries.size).toBeGreaterThan(5000);
      expect(await compareTrees(debian.root, tree, { ignore: ["/lost+found"] })).toEqual([]);
    });
  },
);
