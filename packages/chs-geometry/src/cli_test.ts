import { memoryIo } from "@bigfile/cli-kit/node";
import { describe, expect, it } from "vitest";
import { main } from "./cli.ts";

async function run(args: string[], stdin?: string | Uint8Array, stdinIsTTY = false) {
  const io = memoryIo({ ...(stdin !== undefined && { stdin }), stdinIsTTY });
  const code = await main(args, io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

describe("chs-geometry CLI", () => {
  it("prints the seed's geometry", async () => {
    const { code, out } = await run(["4141875200"]);
    expect(code).toBe(0);
    expect(out).toContain("255 heads, 63 sectors/track, 503 cylinders");
    expect(out).toContain("Units = cylinders of 16065 * 512 = 8225280 bytes");
    expect(out).toContain("4137315840");
    expect(out).toContain("4559360");
    expect(out).toContain("32256");
    expect(out).toContain("sectors 63..8080694, 8080632 sectors, 4137283584 bytes, 4040316 blocks");
  });

  it("prints JSON with the documented keys, from the length of stdin", async () => {
    const { code, out } = await run(["--json", "--heads", "16"], new Uint8Array(1_000_000));
    expect(code).toBe(0);
    const g = JSON.parse(out);
    for (const key of [
      "bytes",
      "heads",
      "sectorsPerTrack",
      "sectorSize",
      "cylinders",
      "cylinderBytes",
      "usableBytes",
      "lostBytes",
      "trackBytes",
    ]) {
      expect(g).toHaveProperty(key);
    }
    expect(g.bytes).toBe(1_000_000);
    expect(g.heads).toBe(16);
    expect(g.cylinders).toBe(Math.floor(1_000_000 / (16 * 63 * 512)));
  });

  it("takes sizes with suffixes and sectors", async () => {
    expect(JSON.parse((await run(["8089600s", "--json"])).out).bytes).toBe(4141875200);
    expect(JSON.parse((await run(["4G", "--json"])).out).bytes).toBe(4294967296);
  });

  it("converts LBA to CHS and back, from arguments and as a filter", async () => {
    expect((await run(["lba2chs", "63", "8080694"])).out).toBe("0/1/1\n502/254/63\n");
    expect((await run(["chs2lba", "0/1/1", "502/254/63"])).out).toBe("63\n8080694\n");
    expect((await run(["lba2chs"], "0\n63\n\n16065\n")).out).toBe("0/0/1\n0/1/1\n1/0/1\n");
    expect((await run(["chs2lba"], "fe ff ff\n")).out).toBe(`${1024 * 16065 - 1}\n`);
    expect((await run(["lba2chs", "--heads", "16", "--sectors", "32", "4096"])).out).toBe(
      "8/0/1\n",
    );
    const json = JSON.parse((await run(["lba2chs", "--json", "20000000"])).out);
    expect(json.mbr.bytes).toBe("fe ff ff");
  });

  it("fails with one line and exit 1 on bad values, 2 on usage errors", async () => {
    const bad = await run(["lba2chs", "x"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toBe("chs-geometry: 'x' is not a block address (a non-negative integer)\n");
    expect((await run(["chs2lba", "0/0/0"])).code).toBe(1);
    expect((await run(["nonsense-size"])).code).toBe(2);
    expect((await run(["--heads", "0", "100"])).code).toBe(2);
    expect((await run([], undefined, true)).code).toBe(2);
    expect((await run(["lba2chs"], undefined, true)).code).toBe(2);
  });
});
