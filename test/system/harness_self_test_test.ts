// Self-test of the real-system harness: images made by the standard tools
// (sfdisk + mke2fs -d + grub-mkimage + grub-bios-setup) pass every check that
// will judge bigfile's images, and deliberately broken ones fail them — so the
// harness is proven able to fail.
import { createHash } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BootFixtures,
  bootFixtures,
  bootQemu,
  checkImage,
  compareTrees,
  debugfsCat,
  debugfsExtract,
  debugfsRdump,
  debugfsRun,
  debugfsTree,
  describeWithTools,
  e2fsck,
  GUEST_MARKERS,
  GUEST_RESULT_PATH,
  makeReferenceImage,
  makeTree,
  parseGuestResult,
  type ReferenceImage,
  ROOT,
  runPygrub,
  SMALL_TREE,
  sfdiskJson,
  snapshotDir,
  type TempDir,
  tempDir,
  writeBootFiles,
  writeGuestCheck,
  writeGuestManifest,
} from "../harness/mod.ts";

const TOOLS = [
  ROOT,
  "sfdisk",
  "mke2fs",
  "e2fsck",
  "debugfs",
  "grub-mkimage",
  "grub-bios-setup",
  "/usr/lib/grub/i386-pc",
  "pygrub",
  "script",
  "unshare",
  "qemu-system-x86_64",
  "busybox",
  "cpio",
  "dpkg",
  "apt-get",
  "python3",
];

const CMDLINE = "console=ttyS0 loglevel=4 bigfile.selftest=1";

/** Checks the guest's kernel makes of the tree's metadata (busybox sh). */
const GUEST_CHECK = `set -e
cd "$1"
fail() { echo "CHECK FAILED: $*"; exit 1; }
[ "$(readlink links/fast)" = ../regular/one-byte ] || fail fast symlink
[ -L links/dangling ] || fail dangling symlink
[ -c special/null-like ] || fail char device
[ -b special/sda1-like ] || fail block device
[ -p special/fifo ] || fail fifo
[ -S special/socket ] || fail socket
[ "$(stat -c %t:%T special/sda1-like)" = 8:1 ] || fail device numbers
[ "$(stat -c %i links/hard-a)" = "$(stat -c %i regular/hard-b)" ] || fail hard link
[ "$(stat -c %h links/hard-a)" = 3 ] || fail link count
[ "$(stat -c %a modes/setuid)" = 4755 ] || fail setuid mode
[ "$(stat -c %a modes/sticky-dir)" = 1777 ] || fail sticky mode
[ -d deep/level-0/level-1/level-2 ] || fail deep tree
[ "$(ls big-dir | wc -l)" = 200 ] || fail big dir
echo "guest metadata checks passed"
`;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function sparseCopy(from: string, to: string): Promise<string> {
  await execa("cp", ["--sparse=always", from, to]);
  return to;
}

/** Overwrites bytes of an image file in place. */
async function patch(path: string, offset: number, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, "r+");
  try {
    await handle.write(bytes, 0, bytes.length, offset);
  } finally {
    await handle.close();
  }
}

async function readAt(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, offset);
    return buffer;
  } finally {
    await handle.close();
  }
}

describeWithTools(TOOLS, "harness self-test on standard-tool images", () => {
  let tmp: TempDir;
  let fx: BootFixtures;
  let root: string;
  let good: ReferenceImage;

  beforeAll(async () => {
    fx = await bootFixtures();
    tmp = await tempDir("selftest");
    root = join(tmp.path, "root");
    await makeTree(root, { seed: "self-test", ...SMALL_TREE });
    await writeBootFiles(root, { kernel: fx.vmlinuz, initrd: fx.initrd, cmdline: CMDLINE });
    await writeGuestManifest(root);
    await writeGuestCheck(root, GUEST_CHECK);
    good = await makeReferenceImage(join(tmp.path, "good.img"), { root, size: 160 << 20 });
  }, 600_000);

  afterAll(async () => {
    await tmp?.remove();
  });

  describe("a good image passes", () => {
    it("sfdisk reads the table", async () => {
      const { exitCode, table } = await sfdiskJson(good.path);
      expect(exitCode).toBe(0);
      expect(table?.label).toBe("dos");
      expect(table?.partitions).toHaveLength(1);
      expect(table?.partitions?.[0]).toMatchObject({
        start: 2048,
        size: good.fsBytes / 512,
        type: "83",
        bootable: true,
      });
    });

    it("e2fsck -fn is clean, and -fy on a copy changes nothing", async () => {
      const r = await e2fsck(good.path, { offset: good.offset, fix: true });
      expect(r.problems).toEqual([]);
      expect(r.exitCode).toBe(0);
      expect(r.clean).toBe(true);
      expect(r.fixed?.exitCode).toBe(0);
      expect(r.fixed?.cleanAfter).toBe(true);
    });

    it("debugfs gives back the tree: types, modes, owners, times, contents, links, devices", async () => {
      const out = join(tmp.path, "extracted");
      await debugfsExtract(good.path, out, { offset: good.offset });
      const diffs = await compareTrees(root, out, { ignore: ["/lost+found"] });
      expect(diffs).toEqual([]);
      // The image snapshot itself (no extraction) agrees too.
      const image = await debugfsTree(good.path, { offset: good.offset });
      expect(await compareTrees(root, image, { ignore: ["/lost+found"] })).toEqual([]);
    });

    it("plain rdump misses what debugfs cannot dump, and compareTrees says so", async () => {
      const out = join(tmp.path, "rdump");
      const r = await debugfsRdump(good.path, out, { offset: good.offset });
      expect(r.exitCode).toBe(0);
      const diffs = await compareTrees(root, out, {
        ignore: ["/lost+found"],
        owners: false,
        times: false,
      });
      expect(diffs).toContain("/special/fifo: only in first (fifo)");
      expect(diffs).toContain("/special/null-like: only in first (char)");
      expect(diffs.some((d) => d.startsWith("/links/hard-a: hard links"))).toBe(true);
      // Regular contents and symlinks do come back.
      expect(diffs.filter((d) => d.includes("contents differ") || d.includes("target"))).toEqual(
        [],
      );
    });

    it("pygrub finds the kernel, initrd and arguments", async () => {
      const r = await runPygrub(good.path);
      expect(r.ok, r.output).toBe(true);
      expect(r.kernel?.sha256).toBe(sha256(await readFile(fx.vmlinuz)));
      expect(r.ramdisk?.sha256).toBe(sha256(await readFile(fx.initrd)));
      expect(r.args).toBe(CMDLINE);
    });

    it("grub-bios-setup wrote boot.img and the embedded core.img as GRUB does", async () => {
      const mbr = await readAt(good.path, 0, 512);
      expect(mbr.readUInt16LE(510)).toBe(0xaa55);
      expect([mbr[0x66], mbr[0x67]]).toEqual([0x90, 0x90]);
      expect(mbr.readBigUInt64LE(0x5c)).toBe(1n); // kernel sector: core.img at LBA 1
      const diskboot = await readAt(good.path, 512, 512);
      // The blocklist: u64 start LBA at 0x1f4, u16 count at 0x1fc, u16 segment at 0x1fe.
      expect(diskboot.readBigUInt64LE(0x1f4)).toBe(2n);
      expect(diskboot.readUInt16LE(0x1fc)).toBeGreaterThanOrEqual(52);
      expect(diskboot.readUInt16LE(0x1fe)).toBe(0x820);
    });

    it("QEMU boots GRUB -> Linux -> initramfs, which checks and writes; the host reads it back", async () => {
      const image = await sparseCopy(good.path, join(tmp.path, "boot.img"));
      const want = [
        "Welcome to GRUB!",
        GUEST_MARKERS.start,
        GUEST_MARKERS.mounted,
        GUEST_MARKERS.manifestOk,
        GUEST_MARKERS.checkOk,
        GUEST_MARKERS.wrote,
        GUEST_MARKERS.unmounted,
        GUEST_MARKERS.doneOk,
        "reboot: Power down",
      ];
      const r = await bootQemu(image, { markers: want, timeoutMs: 90_000 });
      const missing = want.filter((m) => !r.markers[m]);
      expect(missing, r.log).toEqual([]);
      expect(r.timedOut).toBe(false);
      expect(r.exitCode).toBe(0);
      expect(r.log).toContain("guest metadata checks passed");

      const fsck = await e2fsck(image, { offset: good.offset, guestClock: true });
      expect(fsck.problems).toEqual([]);
      expect(fsck.exitCode).toBe(0);
      const result = parseGuestResult(
        (await debugfsCat(image, GUEST_RESULT_PATH, { offset: good.offset })).toString(),
      );
      expect(result).toMatchObject({
        status: "ok",
        manifest: "ok",
        check: "ok",
        root: "/dev/sda1",
      });
      expect(result.kernel).toBe(fx.kernelVersion);
    });
  });

  it("the seed's layout (partition at sector 63, 62-sector gap) installs and boots too", async () => {
    const image = await makeReferenceImage(join(tmp.path, "cyl.img"), {
      root,
      size: 160 << 20,
      startSector: 63,
    });
    expect(image.offset).toBe(32256);
    expect((await sfdiskJson(image.path)).table?.partitions?.[0]?.start).toBe(63);
    const diskboot = await readAt(image.path, 512, 512);
    expect(diskboot.readBigUInt64LE(0x1f4)).toBe(2n);
    expect(diskboot.readUInt16LE(0x1fc)).toBe(61); // core.img + Reed-Solomon up to the gap's end
    // All the oracles in one report.
    const report = await checkImage(image.path, {
      tree: root,
      pygrub: { kernelSha256: sha256(await readFile(fx.vmlinuz)), args: CMDLINE },
      boot: { markers: [GUEST_MARKERS.manifestOk, GUEST_MARKERS.checkOk, GUEST_MARKERS.doneOk] },
    });
    expect(report.problems, report.boot?.log).toEqual([]);
    expect(report.offset).toBe(32256);
    expect(report.afterBoot?.guestResult?.status).toBe("ok");
  });

  it("grub-bios-setup --no-rs-codes embeds core.img alone", async () => {
    const image = await makeReferenceImage(join(tmp.path, "no-rs.img"), {
      size: 16 << 20,
      startSector: 63,
      noRsCodes: true,
    });
    const diskboot = await readAt(image.path, 512, 512);
    expect(diskboot.readBigUInt64LE(0x1f4)).toBe(2n);
    expect(diskboot.readUInt16LE(0x1fc)).toBe(52); // 53-sector core.img minus diskboot
    expect((await sfdiskJson(image.path)).table?.partitions?.[0]).toMatchObject({ start: 63 });
  });

  describe("broken images fail", () => {
    it("a corrupted superblock: e2fsck reports problems", async () => {
      const image = await sparseCopy(good.path, join(tmp.path, "bad-sb.img"));
      const sb = good.offset + 1024;
      const count = (await readAt(image, sb, 4)).readUInt32LE(0);
      const bytes = Buffer.alloc(4);
      bytes.writeUInt32LE(count + 8);
      await patch(image, sb, bytes); // s_inodes_count
      const r = await e2fsck(image, { offset: good.offset });
      // e2fsck -n falls back to a backup superblock and may exit 0: the
      // problem lines are what tell.
      expect(r.clean).toBe(false);
      expect(r.problems.join("\n")).toMatch(/superblock is corrupt/);
      // And with the magic number gone too, e2fsck gives up.
      await patch(image, sb + 56, Uint8Array.of(0, 0));
      const none = await e2fsck(image, { offset: good.offset });
      expect(none.clean).toBe(false);
    });

    it("a file's bytes changed: compareTrees and the guest's manifest both catch it", async () => {
      const image = await sparseCopy(good.path, join(tmp.path, "bad-data.img"));
      const path = "/regular/random-0";
      const { stdout } = await debugfsRun(image, [`bmap ${path} 0`], { offset: good.offset });
      const block = Number(/^(\d+)$/m.exec(stdout)?.[1]);
      expect(block).toBeGreaterThan(0);
      const blockSize = Number(
        /Block size:\s+(\d+)/.exec(
          (await execa("dumpe2fs", ["-h", `${image}?offset=${good.offset}`], { reject: false }))
            .stdout,
        )?.[1],
      );
      const at = good.offset + block * blockSize;
      const old = await readAt(image, at, 1);
      await patch(image, at, Uint8Array.of((old[0] ?? 0) ^ 0xff));

      // e2fsck does not look at file data: still clean.
      expect((await e2fsck(image, { offset: good.offset })).clean).toBe(true);
      const tree = await debugfsTree(image, { offset: good.offset });
      expect(await compareTrees(root, tree, { ignore: ["/lost+found"] })).toEqual([
        `${path}: contents differ`,
      ]);
      // Direct kernel boot: the guest's sha256sum -c fails.
      const r = await bootQemu(image, {
        kernel: fx.vmlinuz,
        initrd: fx.initrd,
        markers: [GUEST_MARKERS.manifestFail, GUEST_MARKERS.doneFail, GUEST_MARKERS.doneOk],
        stopOn: [GUEST_MARKERS.done],
        timeoutMs: 60_000,
      });
      expect(r.markers[GUEST_MARKERS.manifestFail], r.log).toBe(true);
      expect(r.markers[GUEST_MARKERS.doneFail]).toBe(true);
      expect(r.markers[GUEST_MARKERS.doneOk]).toBe(false);
      expect(r.log).toContain(`.${path}: FAILED`);
    });

    it("a wrong blocklist in core.img's first sector: QEMU never reaches GRUB", async () => {
      const image = await sparseCopy(good.path, join(tmp.path, "bad-blocklist.img"));
      const lba = Buffer.alloc(8);
      lba.writeBigUInt64LE(1000n); // core.img's body is at LBA 2, not 1000
      await patch(image, 512 + 0x1f4, lba);
      // Pygrub does not use the MBR: it still finds the kernel.
      expect((await runPygrub(image)).ok).toBe(true);
      const r = await bootQemu(image, {
        markers: ["GRUB loading", "Welcome to GRUB!", GUEST_MARKERS.start],
        stopOn: ["Welcome to GRUB!", GUEST_MARKERS.start],
        timeoutMs: 15_000,
      });
      expect(r.markers["GRUB loading"], r.log).toBe(true); // boot.img ran, then diskboot loaded garbage
      expect(r.markers["Welcome to GRUB!"], r.log).toBe(false);
      expect(r.markers[GUEST_MARKERS.start]).toBe(false);
      expect(r.timedOut).toBe(true);
    });

    it("a missing kernel: pygrub fails and GRUB cannot boot", async () => {
      const image = await sparseCopy(good.path, join(tmp.path, "no-kernel.img"));
      await execa("debugfs", ["-w", "-R", "rm /boot/vmlinuz", `${image}?offset=${good.offset}`]);
      // Still a consistent filesystem: only the boot checks can tell.
      expect((await e2fsck(image, { offset: good.offset })).clean).toBe(true);
      const py = await runPygrub(image);
      expect(py.ok).toBe(false);
      expect(py.kernel).toBeUndefined();
      const report = await checkImage(image, { pygrub: true });
      expect(report.problems).toEqual([expect.stringMatching(/^pygrub: failed/)]);
      const r = await bootQemu(image, {
        markers: ["Welcome to GRUB!", "error: file `/boot/vmlinuz' not found", GUEST_MARKERS.start],
        stopOn: ["error: "],
        timeoutMs: 30_000,
      });
      expect(r.markers["Welcome to GRUB!"], r.log).toBe(true);
      expect(r.markers["error: file `/boot/vmlinuz' not found"], r.log).toBe(true);
      expect(r.markers[GUEST_MARKERS.start]).toBe(false);
    });
  });
});

describeWithTools([ROOT, "python3", "mknod"], "makeTree", () => {
  it("is deterministic for a seed and differs across seeds", async () => {
    const tmp = await tempDir("maketree");
    try {
      const options = { ...SMALL_TREE, bigDirEntries: 50, depth: 3 };
      await makeTree(join(tmp.path, "a"), { seed: "one", ...options });
      await makeTree(join(tmp.path, "b"), { seed: "one", ...options });
      await makeTree(join(tmp.path, "c"), { seed: "two", ...options });
      expect(
        await compareTrees(join(tmp.path, "a"), join(tmp.path, "b"), { atimes: true }),
      ).toEqual([]);
      const diffs = await compareTrees(join(tmp.path, "a"), join(tmp.path, "c"));
      expect(diffs.length).toBeGreaterThan(10);
      expect(diffs.some((d) => d.includes("contents differ"))).toBe(true);
      expect(diffs.some((d) => d.includes("mtime"))).toBe(true);
      expect(diffs.some((d) => d.includes("owner"))).toBe(true);
    } finally {
      await tmp.remove();
    }
  });

  it("covers every file type and the block-map boundaries", async () => {
    const tmp = await tempDir("maketree");
    try {
      const made = await makeTree(join(tmp.path, "t"), { ...SMALL_TREE, blockSize: 1024 });
      const snap = await snapshotDir(made.root);
      const types = new Set([...snap.entries.values()].map((e) => e.type));
      expect([...types].sort()).toEqual([
        "block",
        "char",
        "dir",
        "fifo",
        "file",
        "socket",
        "symlink",
      ]);
      const size = (p: string) => snap.entries.get(`/${p}`)?.size;
      expect(size(made.paths.directMinus1 ?? "")).toBe(11 * 1024);
      expect(size(made.paths.indirect ?? "")).toBe((12 + 256) * 1024);
      expect(size(made.paths.doublePlus1 ?? "")).toBe((12 + 256 + 65536 + 1) * 1024);
      expect(size(made.paths.tripleIndirect ?? "")).toBeGreaterThan((12 + 256 + 65536) * 1024);
      expect(Buffer.byteLength(made.paths.utf8Name255?.split("/")[1] ?? "")).toBe(255);
      expect(snap.entries.get("/links/hard-a")?.nlink).toBe(3);
      expect(snap.entries.get("/links/slow")?.target?.length).toBeGreaterThan(60);
      expect(snap.entries.get("/modes/setuid-setgid-sticky")?.mode).toBe(0o7777);
    } finally {
      await tmp.remove();
    }
  });
});
