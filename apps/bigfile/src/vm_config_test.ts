import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { rawLayout } from "@bigfile/vdisk";
import { writeImageTo } from "@bigfile/vdisk/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grubCfgText, makeTestImage, payload, scratch } from "./_test_images.ts";
import { libvirtXml, qemuCommand, shellCommand, vmConfig, xenConfig } from "./vm_config.ts";

const KERNEL = payload(50_000, 1);
const INITRD = payload(20_000, 2);

describe("vmConfig", () => {
  let tmp: Awaited<ReturnType<typeof scratch>>;
  let image: string;
  beforeAll(async () => {
    tmp = await scratch("vm-config");
    image = await makeTestImage(tmp.path, {
      files: {
        "boot/vmlinuz": KERNEL,
        "boot/initrd.img": INITRD,
        "boot/grub/grub.cfg": grubCfgText(),
      },
    });
  });
  afterAll(() => tmp.remove());

  it("--qemu: a complete command, as argv and shell-quoted text", async () => {
    const vm = await vmConfig(image, "qemu", { noReboot: true });
    expect(vm.format).toBe("raw");
    expect(vm.argv).toEqual([
      "qemu-system-x86_64",
      ...["-name", "disk", "-m", "512", "-smp", "1", "-nographic", "-no-reboot"],
      ...["-drive", `file=${image},format=raw,if=ide`],
    ]);
    expect(vm.text).toBe(`${shellCommand(vm.argv as string[])}\n`);
    expect(vm.warnings).toEqual([]);
  });

  it("--xen: pygrub and the raw disk by absolute path", async () => {
    const vm = await vmConfig("disk.img", "xen", { cwd: tmp.path, name: "web1", memory: 1024 });
    expect(vm.text).toContain('name = "web1"\n');
    expect(vm.text).toContain("memory = 1024\n");
    expect(vm.text).toContain('bootloader = "pygrub"\n');
    expect(vm.text).toContain(`disk = ['format=raw, vdev=xvda, access=rw, target=${image}']\n`);
    expect(vm.warnings).toEqual([]);
  });

  it("--xen --direct-kernel: kernel, ramdisk and extra from the menu, files written to --boot-dir", async () => {
    const bootDir = join(tmp.path, "xenboot");
    const vm = await vmConfig(image, "xen", { directKernel: true, bootDir });
    expect(vm.text).toContain(`kernel = "${join(bootDir, "vmlinuz")}"\n`);
    expect(vm.text).toContain(`ramdisk = "${join(bootDir, "initrd.img")}"\n`);
    expect(vm.text).toContain('extra = "root=/dev/sda1 ro console=ttyS0"\n');
    expect(vm.text).not.toContain("bootloader");
    expect(new Uint8Array(await readFile(join(bootDir, "vmlinuz")))).toEqual(KERNEL);
    expect(vm.warnings).toEqual([
      "the kernel arguments name /dev/sda1; a Xen PV guest sees the disk as /dev/xvda",
    ]);
  });

  it("--qemu --direct-kernel writes next to the image by default", async () => {
    const vm = await vmConfig(image, "qemu", { directKernel: true, entry: 1 });
    expect(vm.argv?.slice(-4)).toEqual([
      ...["-kernel", join(tmp.path, "vmlinuz")],
      ...["-append", "root=/dev/sda1 ro console=ttyS0 single"],
    ]);
    expect(vm.boot?.entry).toBe(1);
  });

  it("--libvirt: a domain with the raw disk and a serial console", async () => {
    const vm = await vmConfig(image, "libvirt", { kvm: true });
    expect(vm.text).toMatch(/^<domain type="kvm">/);
    expect(vm.text).toContain('<driver name="qemu" type="raw"/>');
    expect(vm.text).toContain(`<source file="${image}"/>`);
    expect(vm.text).toContain('<target type="serial" port="0"/>');
  });

  it("warns when pygrub would find nothing, and names a container's format", async () => {
    const bare = join(tmp.path, "blank.img");
    await writeFile(bare, new Uint8Array(1 << 20));
    const vm = await vmConfig(bare, "xen");
    expect(vm.warnings[0]).toMatch(/^pygrub will not find a kernel: no bootloader configuration/);
    // A qcow2 image of the same disk, written by vdisk.
    const qcow = join(tmp.path, "disk.qcow2");
    await writeImageTo(rawLayout(1 << 20, []), "qcow2", qcow);
    const q = await vmConfig(qcow, "qemu");
    expect(q.format).toBe("qcow2");
    expect(q.argv).toContain(`file=${qcow},format=qcow2,if=ide`);
    const x = await vmConfig(qcow, "xen");
    expect(x.text).toContain("format=qcow2, vdev=xvda");
    expect(x.warnings.join("\n")).toMatch(/pygrub reads raw images only/);
    expect((await vmConfig(qcow, "libvirt")).text).toContain('<driver name="qemu" type="qcow2"/>');
    // A corrupt container is one clear error.
    const bad = join(tmp.path, "bad.qcow2");
    const bytes = await readFile(qcow);
    bytes.writeUInt32BE(99, 20); // cluster_bits
    await writeFile(bad, bytes);
    await expect(vmConfig(bad, "qemu")).rejects.toThrow(/qcow2/);
  });
});

describe("the configuration writers", () => {
  it("quote what needs quoting", () => {
    expect(shellCommand(["a b", "it's", "x=1,y"])).toBe(`'a b' 'it'\\''s' x=1,y`);
    expect(qemuCommand("/v/a,b.img", { name: "n", memory: 64, vcpus: 2 })).toContain(
      "file=/v/a,,b.img,format=raw,if=ide",
    );
    expect(libvirtXml("/v/a&b.img", { name: "<n>", memory: 64, vcpus: 1 })).toContain(
      '<source file="/v/a&amp;b.img"/>',
    );
    expect(() => xenConfig("/v/it's.img", { name: "n", memory: 64, vcpus: 1 })).toThrow(RangeError);
  });
});
