// CHS bytes compared byte for byte with tables written by the real sfdisk and fdisk.
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { haveTool } from "../../../test/harness/tools.ts";
import { lbaToMbrChsBytes } from "./mbr_chs.ts";

const hasSfdisk = await haveTool("sfdisk", "fdisk");
const hasFdisk = await haveTool("fdisk", "fdisk");
const dir = mkdtempSync(join(tmpdir(), "chs-sfdisk-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sparseFile(name: string, bytes: number): string {
  const path = join(dir, name);
  const fd = openSync(path, "w");
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

function readEntries(path: string): Uint8Array {
  const fd = openSync(path, "r");
  const buf = new Uint8Array(64);
  readSync(fd, buf, 0, 64, 446);
  closeSync(fd);
  return buf;
}

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");

describe.skipIf(!hasSfdisk)("CHS bytes against sfdisk (255 heads, 63 sectors)", () => {
  const diskSectors = 2 * 1024 * 16065 + 12345; // past cylinder 1023 to exercise the clamp
  const image = sparseFile("sf.img", diskSectors * 512);
  const random = rng(20261124);

  for (let round = 0; round < 12; round++) {
    // Four primaries at random places, sorted, non-overlapping, some past cylinder 1023.
    const cuts = Array.from({ length: 8 }, () => 1 + Math.floor(random() * (diskSectors - 2))).sort(
      (a, b) => a - b,
    );
    const parts = [0, 1, 2, 3].map((i) => {
      const start = cuts[2 * i] as number;
      const end = Math.max(start, (cuts[2 * i + 1] as number) - 1);
      return { start, size: end - start + 1 };
    });
    it(`round ${round}: ${parts.map((p) => `${p.start}+${p.size}`).join(", ")}`, async () => {
      const script = `label: dos\n${parts.map((p) => `start=${p.start}, size=${p.size}, type=83`).join("\n")}\n`;
      const result = await execa("sfdisk", ["--no-reread", "--no-tell-kernel", "-q", image], {
        input: script,
        reject: false,
      });
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      const entries = readEntries(image);
      parts.forEach((p, i) => {
        const e = entries.subarray(i * 16, i * 16 + 16);
        expect(hex(e.subarray(1, 4)), `start CHS of ${p.start}`).toBe(
          hex(lbaToMbrChsBytes(p.start)),
        );
        expect(hex(e.subarray(5, 8)), `end CHS of ${p.start + p.size - 1}`).toBe(
          hex(lbaToMbrChsBytes(p.start + p.size - 1)),
        );
      });
    });
  }

  it("writes the seed's partition as 00 01 01 00 83 FE 7F F6", async () => {
    const seed = sparseFile("seed.img", 4141875200);
    await execa("sfdisk", ["-q", seed], { input: "label: dos\nstart=63, size=8080632, type=83\n" });
    const e = readEntries(seed).subarray(0, 8);
    expect(hex(e)).toBe("00 01 01 00 83 fe 7f f6");
    expect(hex(lbaToMbrChsBytes(63))).toBe("01 01 00");
    expect(hex(lbaToMbrChsBytes(8080694))).toBe("fe 7f f6");
  });
});

describe.skipIf(!hasFdisk)("CHS bytes against fdisk -H -S (other geometries)", () => {
  for (const [heads, sectors] of [
    [16, 32],
    [16, 63],
    [64, 32],
    [4, 17],
  ] as const) {
    it(`${heads} heads, ${sectors} sectors per track`, async () => {
      const image = sparseFile(`g${heads}x${sectors}.img`, 1 << 30);
      const start = 4096;
      const size = 300000 + heads * sectors * 3 + 7;
      const commands = `o\nn\np\n1\n${start}\n+${size - 1}\nw\n`;
      const result = await execa("fdisk", ["-H", String(heads), "-S", String(sectors), image], {
        input: commands,
        reject: false,
      });
      expect(result.exitCode).toBe(0);
      const e = readEntries(image);
      expect([...e.subarray(8, 12)]).toEqual([start & 0xff, (start >> 8) & 0xff, 0, 0]);
      expect(new DataView(e.buffer).getUint32(12, true)).toBe(size);
      const g = { heads, sectorsPerTrack: sectors };
      expect(hex(e.subarray(1, 4))).toBe(hex(lbaToMbrChsBytes(start, g)));
      expect(hex(e.subarray(5, 8))).toBe(hex(lbaToMbrChsBytes(start + size - 1, g)));
    });
  }
});
