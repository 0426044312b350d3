import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { haveTool } from "../../../../test/harness/tools.ts";
import { halfMd4Hash } from "./_htree.ts";

describe("halfMd4Hash", () => {
  it("agrees with debugfs dx_hash (with and without a seed, ASCII, UTF-8, long names)", async () => {
    if (!(await haveTool("debugfs", "e2fsprogs"))) return;
    const seedText = "148b6dac-852b-459d-b4e1-0ebb35e2e8e9";
    const seedBytes = Buffer.from(seedText.replaceAll("-", ""), "hex");
    const seed = new Uint32Array(4);
    for (let i = 0; i < 4; i++) seed[i] = seedBytes.readUInt32LE(i * 4);
    const names = [
      "hello",
      "a",
      "ünïcødé-名前-🙂",
      "x".repeat(255),
      "entry-00042-with-a-longer-name",
      "abcd",
      "abcdefghijklmnopqrstuvwxyz0123456789",
    ];
    const cmds = names.flatMap((n) => [
      `dx_hash -h half_md4 -s ${seedText} "${n}"`,
      `dx_hash -h half_md4 "${n}"`,
    ]);
    const r = await execa("debugfs", ["-f", "-"], { input: cmds.join("\n"), reject: false });
    const got = [...r.stdout.matchAll(/Hash of .* is 0x([0-9a-f]+)/g)].map((m) =>
      Number.parseInt(m[1] as string, 16),
    );
    const want = names.flatMap((n) => {
      const b = new TextEncoder().encode(n);
      return [halfMd4Hash(b, seed), halfMd4Hash(b, new Uint32Array(4))];
    });
    expect(got).toEqual(want);
  });
});
