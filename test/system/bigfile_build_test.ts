// `bigfile build` against the real tools: the seed's image (sfdisk, e2fsck,
// ext3fs info), the same bytes as the three-filter pipeline, reproducible
// builds, and an image QEMU boots through GRUB to Linux, pygrub reads, and
// e2fsck finds clean after the guest wrote to it.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, createReadStream, openSync, statSync } from "node:fs";
import { copyFile, mkdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { beforeAll, expect, it } from "vitest";
import {
  bootFixtures,
  bootQemu,
  checkImage,
  describeWithTools,
  e2fsck,
  GUEST_MARKERS,
  makeTree,
  ROOT,
  runPygrub,
  runQemu,
  SMALL_TREE,
  sfdiskDump,
  sfdiskJson,
  tempDir,
  writeGuestManifest,
} from "../harness/mod.ts";

const bin = (name: string) =>
  name === "bigfile"
    ? fileURLToPath(new URL("../../apps/bigfile/bin/bigfile.js", import.meta.url))
    : fileURLToPath(new URL(`../../packages/${name}/bin/${name}.js`, import.meta.url));

async function sha256(path: string, start = 0, end?: number): Promise<string> {
  const hash = createHash("sha256");
  const options = end === undefined ? { start } : { start, end: end - 1 };
  for await (const chunk of createReadStream(path, options)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

describeWithTools(
  ["sfdisk", "e2fsck", "grub-mkimage", "/usr/lib/grub/i386-pc"],
  "bigfile build: the seed's image and the filters' bytes",
  () => {
    it("makes the seed's big file: 503 cylinders, partition at 32256, 4040316 KiB of ext3 that agrees with the table", async () => {
      const tmp = await tempDir("bigfile-seed");
      try {
        const root = join(tmp.path, "root");
        await makeTree(root, { seed: "bigfile-seed", ...SMALL_TREE });
        const image = join(tmp.path, "big.img");
        const run = await execa(
          bin("bigfile"),
          [
            "build",
            "-o",
            image,
            "--size",
            "4141875200",
            "--align",
            "cylinder",
            "--rootfs",
            root,
            "--json",
          ],
          { reject: false },
        );
        expect(run.exitCode, run.stderr).toBe(0);
        const report = JSON.parse(run.stdout);
        expect(report).toMatchObject({
          bytes: 4141875200,
          geometry: { heads: 255, sectorsPerTrack: 63, cylinders: 503 },
          partition: { start: 63, sectors: 8080632, offset: 32256, bytes: 4040316 * 1024 },
          filesystem: { type: "ext3", bytes: 4040316 * 1024 },
          bootloader: { kind: "grub" },
        });
        expect(statSync(image).size).toBe(4141875200);
        // Sparse: only the data is on disk.
        expect(statSync(image).blocks * 512).toBeLessThan(64 * 2 ** 20);
        expect(report.allocatedBytes).toBe(statSync(image).blocks * 512);

        const table = (await sfdiskJson(image)).table;
        expect(table?.partitions?.[0]).toMatchObject({ start: 63, size: 8080632, bootable: true });
        const info = await execa(bin("ext3fs"), ["info", image, "--partition", "1", "--json"]);
        const sb = JSON.parse(info.stdout) as { blockCount: number; blockSize: number };
        expect(sb.blockCount * sb.blockSize).toBe(8080632 * 512);
        const fsck = await e2fsck(image, { offset: 32256 });
        expect(fsck.problems).toEqual([]);
        expect(fsck.exitCode).toBe(0);
        const listing = await execa(bin("mbr"), ["print", image, "--units", "cylinders"]);
        expect(listing.stdout).toMatch(/\s\*\s+1\s+503\s+4040316\s+83\s+Linux/);
        // Table and superblock agree: bigfile inspect is clean.
        const inspect = await execa(bin("bigfile"), ["inspect", image, "--json"], {
          reject: false,
        });
        expect(inspect.exitCode, inspect.stdout).toBe(0);
      } finally {
        await tmp.remove();
      }
    }, 120_000);

    it("writes the same bytes as ext3fs mkfs | mbr wrap | grub-mbr install on the same inputs", async () => {
      const tmp = await tempDir("bigfile-pipeline");
      try {
        const root = join(tmp.path, "root");
        await makeTree(root, { seed: "bigfile-pipeline", ...SMALL_TREE });
        const image = join(tmp.path, "bigfile.img");
        const size = String(256 * 2 ** 20);
        const built = await execa(
          bin("bigfile"),
          ["build", "-o", image, "--size", size, "--rootfs", root, "--seed", "same", "--json"],
          { reject: false },
        );
        expect(built.exitCode, built.stderr).toBe(0);
        const report = JSON.parse(built.stdout);
        // The pipeline gets the same /boot files: the ones bigfile put into its image.
        const payload = join(tmp.path, "payload.tar");
        const { writeFileTar } = await payloadFromImage(image, payload);
        expect(writeFileTar).toBeGreaterThan(2);
        const script =
          `'${bin("ext3fs")}' mkfs '${root}' '${payload}' -t ext3 --size ${report.partition.bytes} --seed same -q` +
          ` | '${bin("mbr")}' wrap --align cylinder --disk-size ${size} --bootable --label-id ${report.diskSignature}` +
          ` | '${bin("grub-mbr")}' install > '${join(tmp.path, "pipeline.img")}'`;
        const piped = await execa("bash", ["-o", "pipefail", "-c", script], { reject: false });
        expect(piped.exitCode, piped.stderr).toBe(0);
        const other = join(tmp.path, "pipeline.img");
        expect(await sfdiskDump(other)).toBe(
          (await sfdiskDump(image)).replaceAll("bigfile.img", "pipeline.img"),
        );
        const { offset, bytes } = report.partition;
        expect(await sha256(other, offset, offset + bytes)).toBe(
          await sha256(image, offset, offset + bytes),
        );
        // Sector 0 and the gap too: the same GRUB install.
        expect(await sha256(other, 0, offset)).toBe(await sha256(image, 0, offset));
        expect(statSync(other).size).toBe(statSync(image).size);
      } finally {
        await tmp.remove();
      }
    }, 120_000);

    it("with --seed, trees made in different orders give byte-identical images", async () => {
      const tmp = await tempDir("bigfile-repro");
      try {
        const images: string[] = [];
        for (const order of [
          ["a", "b", "c"],
          ["c", "b", "a"],
        ]) {
          const root = join(tmp.path, `root-${order.join("")}`);
          for (const name of order) {
            await mkdir(join(root, "etc", name), { recursive: true });
            await writeFile(join(root, "etc", name, "file"), `${name}\n`.repeat(1000));
            await writeFile(join(root, `${name}.txt`), name);
          }
          for (const name of order) {
            await utimes(join(root, "etc", name, "file"), 1_700_000_000, 1_700_000_000);
            await utimes(join(root, "etc", name), 1_700_000_000, 1_700_000_000);
            await utimes(join(root, `${name}.txt`), 1_700_000_000, 1_700_000_000);
          }
          await utimes(join(root, "etc"), 1_700_000_000, 1_700_000_000);
          await utimes(root, 1_700_000_000, 1_700_000_000);
          const image = join(tmp.path, `${order.join("")}.img`);
          const run = await execa(
            bin("bigfile"),
            ["build", "-o", image, "--size", "64M", "--rootfs", root, "--seed", "v1", "-q"],
            {
              reject: false,
            },
          );
          expect(run.exitCode, run.stderr).toBe(0);
          images.push(image);
        }
        expect(await sha256(images[1] as string)).toBe(await sha256(images[0] as string));
        // And a different seed changes the identity (UUID, disk signature).
        const third = join(tmp.path, "other.img");
        await execa(bin("bigfile"), [
          "build",
          "-o",
          third,
          "--size",
          "64M",
          "--rootfs",
          join(tmp.path, "root-abc"),
          "--seed",
          "v2",
          "-q",
        ]);
        expect(await sha256(third)).not.toBe(await sha256(images[0] as string));
      } finally {
        await tmp.remove();
      }
    }, 120_000);
  },
);

/** The /boot files of a bigfile image as a tar (through `ext3fs extract --tar`), in bigfile's order. */
async function payloadFromImage(image: string, tar: string): Promise<{ writeFileTar: number }> {
  const out = await execa(
    bin("ext3fs"),
    ["extract", image, "--path", "/boot", "--partition", "1", "--tar"],
    {
      encoding: "buffer",
    },
  );
  // Keep the files only: directories the tree did not list are created by mkfs in both builds.
  const list = await execa("tar", ["-t"], { input: out.stdout });
  const files = list.stdout
    .split("\n")
    .filter((p) => p !== "" && !p.endsWith("/"))
    .map((p) => p.replace(/^\.\//, ""));
  const order = [
    ...files.filter((p) => p.startsWith("grub/i386-pc/")).sort(),
    "grub/grub.cfg",
    "grub/menu.lst",
  ];
  const dir = `${tar}.d`;
  await mkdir(dir);
  await execa("tar", ["-x", "-C", dir], { input: out.stdout });
  await execa("tar", [
    "-c",
    "-f",
    tar,
    "-C",
    dir,
    "--numeric-owner",
    "--format=gnu",
    "--transform",
    "s,^,boot/,",
    ...order,
  ]);
  return { writeFileTar: order.length };
}

describeWithTools(
  [ROOT, "qemu-system-x86_64", "e2fsck", "pygrub", "grub-mkimage", "/usr/lib/grub/i386-pc"],
  "bigfile build: an image that boots",
  () => {
    beforeAll(async () => {
      await bootFixtures();
    }, 600_000);

    // ext3 is the seed's; ext4 with mke2fs.conf's features (64bit, metadata_csum,
    // extents, flex_bg) is what GRUB, pygrub and the kernel must read today.
    it.each(["ext3", "ext4"] as const)(
      "%s: boots in QEMU through GRUB to Linux; the guest checks its files and writes one; e2fsck clean; ext3fs cat reads it",
      async (fs) => {
        const fx = await bootFixtures();
        const tmp = await tempDir(`bigfile-boot-${fs}`);
        try {
          const root = join(tmp.path, "root");
          await makeTree(root, { seed: "bigfile-boot", ...SMALL_TREE });
          await writeGuestManifest(root);
          const image = join(tmp.path, "disk.img");
          const run = await execa(
            bin("bigfile"),
            [
              "build",
              "-o",
              image,
              "--rootfs",
              root,
              "--kernel",
              fx.vmlinuz,
              "--initrd",
              fx.initrd,
              "--serial",
              "--fs",
              fs,
              "--cmdline",
              `loglevel=4 bigfile.fstype=${fs}`,
              "--size",
              "auto",
              "--free",
              "8M",
              "--json",
            ],
            { reject: false },
          );
          expect(run.exitCode, run.stderr).toBe(0);
          const report = JSON.parse(run.stdout);
          const cmdline = `root=/dev/sda1 ro loglevel=4 bigfile.fstype=${fs}`;
          const args = `${cmdline} console=ttyS0,115200`;
          expect(report.boot).toMatchObject({
            kernel: "/boot/vmlinuz",
            initrd: "/boot/initrd.img",
            cmdline,
          });
          expect(report.filesystem.type).toBe(fs);

          const kernelSha = createHash("sha256")
            .update(await readFile(fx.vmlinuz))
            .digest("hex");
          const initrdSha = createHash("sha256")
            .update(await readFile(fx.initrd))
            .digest("hex");
          const checked = await checkImage(image, {
            tree: root,
            compare: { ignore: ["/lost+found", "/boot"] },
            pygrub: { kernelSha256: kernelSha, ramdiskSha256: initrdSha, args },
          });
          expect(checked.problems).toEqual([]);

          // pygrub and bigfile boot-files find the same kernel, initrd and arguments.
          const out = join(tmp.path, "boot-files");
          const files = await execa(bin("bigfile"), ["boot-files", image, "-o", out, "--json"]);
          const found = JSON.parse(files.stdout);
          expect(found.args).toBe(checked.pygrub?.args);
          const sha = async (p: string) =>
            createHash("sha256")
              .update(await readFile(p))
              .digest("hex");
          expect(await sha(join(out, "vmlinuz"))).toBe(checked.pygrub?.kernel?.sha256);
          expect(await sha(join(out, "initrd.img"))).toBe(checked.pygrub?.ramdisk?.sha256);
          // The image passes bigfile inspect.
          const inspect = await execa(bin("bigfile"), ["inspect", image], { reject: false });
          expect(inspect.exitCode, inspect.stdout + inspect.stderr).toBe(0);

          // Boot with the very command line `bigfile vm-config --qemu` prints.
          const config = await execa(bin("bigfile"), [
            "vm-config",
            image,
            "--qemu",
            "--no-reboot",
            "--json",
          ]);
          const argv = JSON.parse(config.stdout).argv as string[];
          expect(argv[0]).toBe("qemu-system-x86_64");
          const boot = await runQemu(argv, {
            markers: [
              GUEST_MARKERS.mounted,
              GUEST_MARKERS.manifestOk,
              GUEST_MARKERS.unmounted,
              GUEST_MARKERS.doneOk,
            ],
            stopOn: [GUEST_MARKERS.done],
            timeoutMs: 120_000,
          });
          for (const [marker, seen] of Object.entries(boot.markers))
            expect(seen, `${marker}\n${boot.command}\n${boot.log}`).toBe(true);
          const after = await e2fsck(image, { offset: report.partition.offset, guestClock: true });
          expect(after.problems).toEqual([]);
          const cat = await execa(bin("ext3fs"), [
            "cat",
            image,
            "/bigfile-test/guest-result.txt",
            "--partition",
            "1",
          ]);
          expect(cat.stdout).toMatch(/status=ok/);
        } finally {
          await tmp.remove();
        }
      },
      300_000,
    );

    it("finds the kernel and initrd in the tree's /boot (Debian's links) when no --kernel is given", async () => {
      const fx = await bootFixtures();
      const tmp = await tempDir("bigfile-treekernel");
      try {
        const root = join(tmp.path, "root");
        await mkdir(join(root, "boot"), { recursive: true });
        await copyFile(fx.vmlinuz, join(root, "boot", "vmlinuz-6.1.0-test-amd64"));
        await copyFile(fx.initrd, join(root, "boot", "initrd.img-6.1.0-test-amd64"));
        await execa("ln", ["-s", "boot/vmlinuz-6.1.0-test-amd64", join(root, "vmlinuz")]);
        await execa("ln", ["-s", "boot/initrd.img-6.1.0-test-amd64", join(root, "initrd.img")]);
        await writeGuestManifest(root);
        const image = join(tmp.path, "disk.img");
        const run = await execa(
          bin("bigfile"),
          [
            "build",
            "-o",
            image,
            "--rootfs",
            root,
            "--serial",
            "--size",
            "auto",
            "--align",
            "mib",
            "--json",
          ],
          {
            reject: false,
          },
        );
        expect(run.exitCode, run.stderr).toBe(0);
        const report = JSON.parse(run.stdout);
        expect(report.boot.kernel).toBe("/boot/vmlinuz-6.1.0-test-amd64");
        expect(report.boot.initrd).toBe("/boot/initrd.img-6.1.0-test-amd64");
        expect(report.partition.offset).toBe(1048576);
        const py = await runPygrub(image);
        expect(py.ok, py.output).toBe(true);
        const boot = await bootQemu(image, {
          markers: [GUEST_MARKERS.doneOk],
          stopOn: [GUEST_MARKERS.done],
          timeoutMs: 120_000,
        });
        expect(boot.markers[GUEST_MARKERS.doneOk], boot.log).toBe(true);
      } finally {
        await tmp.remove();
      }
    }, 300_000);
  },
);

describeWithTools(
  [ROOT, "qemu-system-x86_64", "qemu-img", "e2fsck", "grub-mkimage", "/usr/lib/grub/i386-pc"],
  "bigfile build --format: containers written directly",
  () => {
    beforeAll(async () => {
      await bootFixtures();
    }, 600_000);

    it("writes every format as qemu-img reads it, the same disk as the raw build, and QEMU boots qcow2 and VMDK", async () => {
      const fx = await bootFixtures();
      const tmp = await tempDir("bigfile-formats");
      try {
        const root = join(tmp.path, "root");
        await makeTree(root, { seed: "bigfile-formats", ...SMALL_TREE });
        await writeGuestManifest(root);
        const common = [
          "--rootfs",
          root,
          "--kernel",
          fx.vmlinuz,
          "--initrd",
          fx.initrd,
          "--serial",
        ];
        const same = [
          ...common,
          "--cmdline",
          "loglevel=4",
          "--size",
          "2G",
          "--seed",
          "formats",
          "-q",
        ];
        const raw = join(tmp.path, "disk.img");
        const built = await execa(bin("bigfile"), ["build", "-o", raw, ...same], { reject: false });
        expect(built.exitCode, built.stderr).toBe(0);
        const qemuFormat: Record<string, string> = {
          qcow2: "qcow2",
          vhd: "vpc",
          "vhd-fixed": "vpc",
          vmdk: "vmdk",
          "vmdk-stream": "vmdk",
        };
        for (const [format, qemu] of Object.entries(qemuFormat)) {
          const image = join(tmp.path, `disk.${format}`);
          const run = await execa(
            bin("bigfile"),
            ["build", "-o", image, "--format", format, ...same],
            {
              reject: false,
            },
          );
          expect(run.exitCode, `${format}: ${run.stderr}`).toBe(0);
          // A fixed VHD's only header is its footer, which qemu-img does not probe for: name it.
          const probe = format === "vhd-fixed" ? ["-f", "vpc"] : [];
          const info = JSON.parse(
            (await execa("qemu-img", ["info", ...probe, "--output=json", image])).stdout,
          );
          expect(info.format, format).toBe(qemu);
          expect(info["virtual-size"], format).toBeGreaterThanOrEqual(2 ** 31);
          if (qemu !== "vpc") {
            const check = await execa("qemu-img", ["check", image], { reject: false });
            expect(check.exitCode, `${format}: ${check.stdout}`).toBe(0);
          }
          // VHD's CHS geometry may round the virtual size up: compare the raw disk's length.
          const cmp = await execa("qemu-img", ["compare", "-f", qemu, "-F", "raw", image, raw], {
            reject: false,
          });
          expect(cmp.exitCode, `${format}: ${cmp.stdout}`).toBe(0);
        }
        // Every container but vmdk-stream is written by position, by the copy
        // threads too (qcow2 clusters, dynamic VHD blocks and VMDK grains
        // placed as first written): the same disk through a descriptor
        // (`> disk.qcow2`) and from the walk writer (which writes indirect
        // blocks between a file's runs).
        for (const [name, format, extra, toStdout] of [
          ["qcow2-stdout", "qcow2", [], true],
          ["qcow2-walk", "qcow2", ["--writer", "walk"], false],
          ["vhd-fixed-stdout", "vhd-fixed", [], true],
          ["vhd-stdout", "vhd", [], true],
          ["vhd-walk", "vhd", ["--writer", "walk"], false],
          ["vmdk-stdout", "vmdk", [], true],
          ["vmdk-walk", "vmdk", ["--writer", "walk"], false],
        ] as const) {
          const image = join(tmp.path, `${name}.img`);
          const args = ["build", "--format", format, ...extra, ...same];
          // `> disk.qcow2`: the descriptor itself (execa's { file } would be a pipe).
          let run: { exitCode?: number | null | undefined; stderr: string };
          if (toStdout) {
            // `> disk.qcow2`: the descriptor itself (execa's { file } would be a pipe).
            const out = openSync(image, "w");
            try {
              const child = spawnSync(bin("bigfile"), [...args, "-o", "-"], {
                stdio: ["ignore", out, "pipe"],
                encoding: "utf8",
              });
              run = { exitCode: child.status, stderr: child.stderr };
            } finally {
              closeSync(out);
            }
          } else run = await execa(bin("bigfile"), [...args, "-o", image], { reject: false });
          expect(run.exitCode, `${name}: ${run.stderr}`).toBe(0);
          const qemu = qemuFormat[format] as string;
          // qemu-img has no check for VHD.
          if (qemu !== "vpc") {
            const check = await execa("qemu-img", ["check", image], { reject: false });
            expect(check.exitCode, `${name}: ${check.stdout}`).toBe(0);
          }
          const cmp = await execa("qemu-img", ["compare", "-f", qemu, "-F", "raw", image, raw], {
            reject: false,
          });
          expect(cmp.exitCode, `${name}: ${cmp.stdout}`).toBe(0);
        }
        // QEMU boots the containers with the command line vm-config prints for them.
        for (const format of ["qcow2", "vmdk"]) {
          const image = join(tmp.path, `disk.${format}`);
          const config = await execa(bin("bigfile"), [
            "vm-config",
            image,
            "--qemu",
            "--no-reboot",
            "--json",
          ]);
          const argv = JSON.parse(config.stdout).argv as string[];
          expect(argv.join(" ")).toContain(`format=${format}`);
          const boot = await runQemu(argv, {
            markers: [GUEST_MARKERS.manifestOk, GUEST_MARKERS.doneOk],
            stopOn: [GUEST_MARKERS.done],
            timeoutMs: 150_000,
          });
          for (const [marker, seen] of Object.entries(boot.markers))
            expect(seen, `${format} ${marker}\n${boot.log}`).toBe(true);
          // The guest's write is in the container: read it back through vdisk.
          const cat = await execa(bin("bigfile"), ["inspect", image, "--json"], { reject: false });
          expect(cat.exitCode, `${format}: ${cat.stdout}`).toBe(0);
        }
      } finally {
        await tmp.remove();
      }
    }, 600_000);
  },
);
