// The seed's big file made by the Unix filters alone, no root tools: ext3fs
// mkfs of exactly 4040316 KiB | mbr wrap to 4141875200 bytes on cylinder
// boundaries | grub-mbr install. Then every oracle: sfdisk, e2fsck, the tree
// through debugfs, pygrub, and QEMU booting GRUB -> Linux -> the initramfs,
// which mounts the ext3 root, checks the manifest and writes a file.
import { statSync } from "node:fs";
import { copyFile, mkdir, utimes } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { beforeAll, expect, it } from "vitest";
import {
  bootFixtures,
  checkImage,
  describeWithTools,
  makeTree,
  ROOT,
  SMALL_TREE,
  tempDir,
  writeGuestManifest,
} from "../harness/mod.ts";

const bin = (name: string) =>
  fileURLToPath(new URL(`../../packages/${name}/bin/${name}.js`, import.meta.url));

describeWithTools(
  [ROOT, "qemu-system-x86_64", "sfdisk", "e2fsck", "debugfs", "pygrub", "grub-mkimage"],
  "the seed's big file, from Unix filters",
  () => {
    beforeAll(async () => {
      await bootFixtures();
    }, 600_000);

    it("is 4141875200 bytes, partition 63..8080694, ext3 of 4040316 KiB, and boots", async () => {
      const fx = await bootFixtures();
      const tmp = await tempDir("seed-pipeline");
      try {
        const root = join(tmp.path, "root");
        await makeTree(root, { seed: "seed-pipeline", ...SMALL_TREE });
        await mkdir(join(root, "boot"), { recursive: true });
        await copyFile(fx.vmlinuz, join(root, "boot", "vmlinuz"));
        await copyFile(fx.initrd, join(root, "boot", "initrd.img"));
        await writeGuestManifest(root);
        // Later SOURCEs win: the GRUB payload's own boot/ entry (mtime 0) is laid over ours.
        await utimes(join(root, "boot"), 0, 0);
        const grubTar = join(tmp.path, "grub.tar");
        const image = join(tmp.path, "big.img");
        const script = [
          `'${bin("grub-mbr")}' files --serial --cmdline 'root=/dev/sda1 ro loglevel=4' > '${grubTar}'`,
          `'${bin("ext3fs")}' mkfs '${root}' '${grubTar}' -t ext3 --blocks 4040316 --seed seed` +
            ` | '${bin("mbr")}' wrap --align cylinder --disk-size 4141875200 --bootable` +
            ` | '${bin("grub-mbr")}' install > '${image}'`,
        ].join(" && ");
        const run = await execa("bash", ["-o", "pipefail", "-c", script], { reject: false });
        expect(run.exitCode, run.stderr).toBe(0);

        expect(statSync(image).size).toBe(4141875200);
        // Sparse all the way through the pipe: only the data is on disk.
        expect(statSync(image).blocks * 512).toBeLessThan(256 * 2 ** 20);

        const listing = await execa(bin("mbr"), ["print", image, "--units", "cylinders"]);
        expect(listing.stdout).toMatch(/255 heads, 63 sectors\/track, 503 cylinders/);
        expect(listing.stdout).toMatch(/\s\*\s+1\s+503\s+4040316\s+83\s+Linux/);
        const info = await execa(bin("ext3fs"), ["info", image, "--partition", "1", "--json"]);
        const sb = JSON.parse(info.stdout) as { blockCount: number; blockSize: number };
        // 4040316 KiB as mke2fs counts it: 1010079 blocks of 4 KiB, the partition exactly.
        expect(sb.blockCount * sb.blockSize).toBe(4040316 * 1024);

        const report = await checkImage(image, {
          tree: root,
          compare: { ignore: ["/lost+found", "/boot/grub"] },
          pygrub: { args: "root=/dev/sda1 ro loglevel=4 console=ttyS0,115200" },
          boot: { timeoutMs: 120_000 },
        });
        expect(report.offset).toBe(32256);
        const part = report.sfdisk.table?.partitions?.[0];
        expect(part).toMatchObject({ start: 63, size: 8080632, bootable: true });
        expect(report.problems, report.boot?.log).toEqual([]);
      } finally {
        await tmp.remove();
      }
    }, 600_000);
  },
);
