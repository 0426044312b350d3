import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { memoryIo } from "@bigfile/cli-kit/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  grubCfgText,
  makeTestImage,
  payload,
  scratch,
  setPartitionSectors,
} from "./_test_images.ts";
import { main } from "./cli.ts";

const KERNEL = payload(40_000, 1);
const INITRD = payload(10_000, 2);

async function run(args: string[], cwd?: string) {
  const io = memoryIo(cwd ? { cwd } : {});
  const code = await main(args, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

describe("bigfile inspect, boot-files, vm-config", () => {
  let tmp: Awaited<ReturnType<typeof scratch>>;
  let image: string;
  beforeAll(async () => {
    tmp = await scratch("read-cli");
    image = await makeTestImage(tmp.path, {
      files: {
        "boot/vmlinuz": KERNEL,
        "boot/initrd.img": INITRD,
        "boot/grub/grub.cfg": grubCfgText(),
      },
    });
  });
  afterAll(() => tmp.remove());

  it("inspect: text, exit 0 on a consistent image", async () => {
    const r = await run(["inspect", image]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^.*disk\.img: 16777216 bytes \(16 MiB\)\n/);
    expect(r.stdout).toContain("Geometry: 255 heads, 63 sectors/track, 2 cylinders");
    expect(r.stdout).toContain("Boot code: none (zeros)");
  });

  it("inspect --json: the report", async () => {
    const r = await run(["inspect", "disk.img", "--json"], tmp.path);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ image: "disk.img", ok: true, checks: [] });
    expect(report.partitions[0].filesystem.type).toBe("ext3");
  });

  it("inspect: exit 1 and one line on stderr when the table is shrunk under the filesystem", async () => {
    const dir = join(tmp.path, "shrunk");
    const bad = await makeTestImage(dir, { files: { "etc/x": "x" } });
    await setPartitionSectors(bad, 1, 10000);
    const r = await run(["inspect", bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("error: partition 1: the filesystem's superblock says 8192 blocks");
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^bigfile: .*disk\.img: 1 check failed: partition 1: .* \(8388608 bytes\) .* \(5120000 bytes\), .*lying\n$/,
    );
  });

  it("boot-files: pygrub's simple format on stdout, the files in -o DIR", async () => {
    const out = join(tmp.path, "boot");
    const r = await run(["boot-files", image, "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `kernel ${out}/vmlinuz\nramdisk ${out}/initrd.img\nargs root=/dev/sda1 ro console=ttyS0\n`,
    );
    expect(r.stderr).toBe(
      "bigfile: copied /boot/vmlinuz and /boot/initrd.img from partition 1: /boot/grub/grub.cfg entry 0 'Linux'\n",
    );
    expect(new Uint8Array(await readFile(join(out, "initrd.img")))).toEqual(INITRD);
  });

  it("boot-files --json --entry 1", async () => {
    const r = await run(["boot-files", "disk.img", "--entry", "1", "--json", "-o", "b1"], tmp.path);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      kernel: join(tmp.path, "b1", "vmlinuz"),
      initrd: null,
      args: "root=/dev/sda1 ro console=ttyS0 single",
      entry: 1,
      title: "Linux (single)",
      config: "/boot/grub/grub.cfg",
    });
  });

  it("boot-files: errors in one line, exit 1", async () => {
    const r = await run(["boot-files", image, "--entry", "9", "-n"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "bigfile: /boot/grub/grub.cfg: no entry 9 (the menu has 0 'Linux', 1 'Linux (single)')\n",
    );
    const missing = await run(["boot-files", join(tmp.path, "nope.img")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^bigfile: cannot open '.*nope\.img': no such file or directory\n$/,
    );
  });

  it("vm-config: --qemu, --xen, --libvirt; exactly one of them", async () => {
    const q = await run(["vm-config", image, "--qemu", "--memory", "256"]);
    expect(q.code).toBe(0);
    expect(q.stdout).toBe(
      `qemu-system-x86_64 -name disk -m 256 -smp 1 -nographic -drive file=${image},format=raw,if=ide\n`,
    );
    const x = await run(["vm-config", image, "--xen", "--name", "vm1"]);
    expect(x.stdout).toContain("format=raw, vdev=xvda, access=rw, target=");
    const l = await run(["vm-config", image, "--libvirt", "--json"]);
    expect(JSON.parse(l.stdout)).toMatchObject({ kind: "libvirt", format: "raw", name: "disk" });
    const none = await run(["vm-config", image]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe("bigfile: say which configuration: --xen, --qemu or --libvirt\n");
    const two = await run(["vm-config", image, "--xen", "--qemu"]);
    expect(two.code).toBe(2);
    const stray = await run(["vm-config", image, "--xen", "--entry", "1"]);
    expect(stray.stderr).toBe("bigfile: --boot-dir and --entry go with --direct-kernel\n");
  });
});
