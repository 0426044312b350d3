import { readFile } from "node:fs/promises";
import { MemoryDevice } from "@bigfile/blockdev";
import { describe, expect, it } from "vitest";
import { foreignSectorOwner } from "./embedding_area.ts";
import { GrubInstallError } from "./grub_install_error.ts";
import { layOutCore, patchBootSector, readBlocklists } from "./grub_layout.ts";
import { bootCodeKind, inspectBoot } from "./inspect_boot.ts";
import { installGrub, installGrubStream } from "./install_grub.ts";

/** A stand-in core.img: 5 sectors, 100 bytes unprotected, blocklist as grub-mkimage writes it. */
function fakeCore(sectors = 5): Uint8Array {
  const core = new Uint8Array(sectors * 512 - 100);
  for (let i = 0; i < core.length; i++) core[i] = (i * 31 + 7) & 0xff;
  core.fill(0, 0x100, 0x200);
  core.set([2, 0, 0, 0, 0, 0, 0, 0, sectors - 1, 0, 0x20, 0x08], 0x1f4);
  core.fill(0, 0x210, 0x218);
  core[0x214] = 100;
  return core;
}

/** An MBR disk of `sectors` sectors whose one partition starts at `start`. */
function disk(start: number, sectors = 4096): Uint8Array {
  const bytes = new Uint8Array(sectors * 512);
  bytes[0x1be] = 0x80;
  bytes[0x1be + 4] = 0x83;
  new DataView(bytes.buffer).setUint32(0x1be + 8, start, true);
  new DataView(bytes.buffer).setUint32(0x1be + 12, sectors - start, true);
  bytes[510] = 0x55;
  bytes[511] = 0xaa;
  return bytes;
}

const boot = new Uint8Array(512);
boot.set([0xeb, 0x63, 0x90]);
boot.set(new TextEncoder().encode("GRUB \0Geom\0Hard Disk\0Read\0 Error\r\n\0"), 0x180);
boot.set([0xeb, 0x05], 0x66);
boot[510] = 0x55;
boot[511] = 0xaa;

describe("patchBootSector", () => {
  it("keeps the disk's BPB and table, points at core.img, patches the drive check", () => {
    const old = new Uint8Array(512).fill(0x11);
    const out = patchBootSector(boot, old, { kernelSector: 0x1_0000_0002 });
    expect(out.subarray(0, 3)).toEqual(boot.subarray(0, 3));
    expect(out.subarray(0x03, 0x5a).every((b) => b === 0x11)).toBe(true);
    expect([...out.subarray(0x5c, 0x64)]).toEqual([2, 0, 0, 0, 1, 0, 0, 0]);
    expect(out[0x64]).toBe(0xff);
    expect([...out.subarray(0x66, 0x68)]).toEqual([0x90, 0x90]);
    expect(out.subarray(0x1b8, 0x1fe).every((b) => b === 0x11)).toBe(true);
    expect([...out.subarray(0x1fe)]).toEqual([0x55, 0xaa]);
    expect([
      ...patchBootSector(boot, old, { kernelSector: 1, allowFloppy: true }).subarray(0x66, 0x68),
    ]).toEqual([0xeb, 0x05]);
  });
});

describe("layOutCore", () => {
  it("writes one blocklist per run of sectors, segments counting on", () => {
    const out = layOutCore(fakeCore(), [1, 2, 4, 5, 6, 9, 10, 11, 12, 13]);
    expect(readBlocklists(out)).toEqual([
      { start: 2, sectors: 1, segment: 0x820 },
      { start: 4, sectors: 3, segment: 0x840 },
      { start: 9, sectors: 5, segment: 0x8a0 },
    ]);
    expect(new DataView(out.buffer).getUint32(0x210, true)).toBe(10 * 512 - (5 * 512 - 100));
  });

  it("stops at core.img's own size without Reed-Solomon", () => {
    const out = layOutCore(fakeCore(), [1, 2, 3, 4, 5, 6, 7], { rsCodes: false });
    expect(out.length).toBe(5 * 512);
    expect(readBlocklists(out)).toEqual([{ start: 2, sectors: 4, segment: 0x820 }]);
    expect(out.subarray(5 * 512 - 100).every((b) => b === 0)).toBe(true);
  });

  it("refuses more runs than the first sector has free slots for", () => {
    const sectors = Array.from({ length: 60 }, (_, i) => 1 + 2 * i);
    expect(() => layOutCore(fakeCore(30), sectors)).toThrow(/too fragmented/);
  });
});

describe("install on memory", () => {
  it("skips sectors other software claims and reports them", async () => {
    const bytes = disk(63);
    bytes.set(new TextEncoder().encode("ycgl"), 3 * 512);
    expect(foreignSectorOwner(bytes.subarray(3 * 512))).toEqual({
      owner: "HighPoint RAID controller",
      kind: "raid",
    });
    const plan = await installGrub(new MemoryDevice(bytes), boot, fakeCore());
    expect(plan.skipped).toEqual([{ sector: 3, owner: "HighPoint RAID controller", kind: "raid" }]);
    expect(plan.sectors).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(new TextDecoder().decode(bytes.subarray(3 * 512, 3 * 512 + 4))).toBe("ycgl");
  });

  it("as a stream, passes everything after the head through untouched", async () => {
    const bytes = disk(63, 8192);
    bytes.fill(0x5a, 63 * 512);
    const chunks = [bytes.subarray(0, 1000), bytes.subarray(1000, 70000), bytes.subarray(70000)];
    const { plan, output } = await installGrubStream(chunks, boot, fakeCore());
    const parts: Uint8Array[] = [];
    for await (const c of output) parts.push(c);
    const out = Buffer.concat(parts);
    expect(out.length).toBe(bytes.length);
    expect(out.subarray(63 * 512).equals(Buffer.from(bytes.subarray(63 * 512)))).toBe(true);
    expect(plan.sectors.length).toBe(10);
    const copy = bytes.slice();
    await installGrub(new MemoryDevice(copy), boot, fakeCore());
    expect(out.equals(Buffer.from(copy))).toBe(true);
  });

  it("refuses an image that ends inside the embedding area", async () => {
    const bytes = disk(63).subarray(0, 3 * 512);
    await expect(installGrubStream([bytes], boot, fakeCore())).rejects.toThrow(GrubInstallError);
  });
});

describe("inspectBoot", () => {
  it("tells boot code kinds apart", async () => {
    expect(bootCodeKind(new Uint8Array(512))).toBe("none");
    expect(bootCodeKind(boot)).toBe("grub2");
    const legacy = new Uint8Array(512);
    legacy.set([0xeb, 0x48, 0x90]);
    legacy.set([3, 2], 0x3e);
    legacy.set(new TextEncoder().encode("GRUB \0Geom\0Hard Disk\0Read\0 Error\0"), 0x17d);
    expect(bootCodeKind(legacy)).toBe("grub-legacy");
    const syslinux = new Uint8Array(512);
    syslinux.set([
      0x33, 0xc0, 0xfa, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00, 0x7c, 0x89, 0xe6, 0x06, 0x57, 0x8e,
      0xc0,
    ]);
    expect(bootCodeKind(syslinux)).toBe("syslinux");
    const windows = new Uint8Array(512);
    windows.set([0x33, 0xc0, 0x8e, 0xd0, 0xbc, 0x00, 0x7c]);
    expect(bootCodeKind(windows)).toBe("other");
  });

  it("finds damage with the Reed-Solomon parity", async () => {
    const bytes = disk(63);
    const dev = new MemoryDevice(bytes);
    await installGrub(dev, boot, fakeCore());
    expect((await inspectBoot(dev)).grub?.core).toMatchObject({
      sector: 1,
      sectors: 10,
      integrity: "intact",
    });
    bytes[3 * 512 + 17] = (bytes[3 * 512 + 17] as number) ^ 0xff;
    expect((await inspectBoot(dev)).grub?.core).toMatchObject({
      integrity: "repairable",
      damagedBytes: 1,
    });
  });

  it("reads Debian's boot.img as GRUB 2", async (ctx) => {
    const real = await readFile("/usr/lib/grub/i386-pc/boot.img").catch(() => undefined);
    if (!real) return ctx.skip();
    expect(bootCodeKind(real)).toBe("grub2");
  });
});
