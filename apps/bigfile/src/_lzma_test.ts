import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { haveTools } from "../../../test/harness/tools.ts";
import { lzmaDecodeRaw } from "./_lzma.ts";

function sample(): Uint8Array {
  let text = "";
  for (let i = 0; i < 200; i++)
    text += `line ${i}: the quick brown fox jumps over the lazy dog ${(i * i) % 97}\n`;
  return new TextEncoder().encode(text);
}

// Python's lzma.compress(sample, FORMAT_RAW, LZMA1 lc=3 lp=0 pb=2 dict 64 KiB): with an end mark.
const SAMPLE_LZMA =
  "ADYaSh8IoCZWTg1suKXtY5yOfNtO9p5LeBhWXPcm69SjbhxGEAxYaudBkh1/WEvFf2RQnudR8LrYRe1r+uiwlKzByb4ZPocYMN1LbRlzflBQWrDRdlAIDMcvctud079kslHADsTbQF2qI/0wLHPXeyOkuaBfAKBz05Qo/WSa1RCLuczThg7/CARziYWRhDEGL+o5AJGjp70LwIeEMlF/p/sMRWV7BUt9iWgknYFoJ5drM0Saoy5x5+96jXJyGeslzbjon2Ny2n1E/jpX4wabFZcozD8OPc9KoUI5bjP25ZtyUL1Y7qkXdRIO+sIoc0WxhgnQbKReUpkx7/WZqv22WzDeAltxMj9XzZPm8uINbKblChzTFokFZ2U4LFxh+FkSYQJT7HBtoSAy2o7ZafzLnpi9DN55469Toftwyw0D5pBOq24okXiuvpHtmgFxGYNhq76S6w/iTn+ILRDX5RhsbkAxFCYZsrVjhCQ54kVTxSKRDFMLRcpQO+HL0tLxjZ7bQayKDdOgSPV27rzU+9HcxqEKuw4JLhU4gdhdOSMHbq64cUne3sbYrsmm3NOKW+gJrnl7cibbBWCA/ixEcNO51YLJPpTWKXBnpGK8gvWwmddSTBrZM0nO1mKg1URYkyWCgk2KqiVpyVZwtnuuLXfp4RIQFwH85Zb7tU0+qYDjezThi1pBeU3+tAOqn35wcUVbO+cgN7PcOW3baPg7EFhxcHMUiaK0HAGEBbZgukjL/JAE7dqz8neDvqmxRmqRd2CR1k2Lhq2dqPfJYrIRvuIetGmXNK4i0+Cm7kfUznRhwtr8QwH//vpawA==";

describe("lzmaDecodeRaw", () => {
  it("decodes a raw LZMA1 stream of known length", () => {
    const input = new Uint8Array(Buffer.from(SAMPLE_LZMA, "base64"));
    expect(lzmaDecodeRaw(input, sample().length)).toEqual(sample());
  });

  it("stops at the end mark and says when the stream is shorter than promised", () => {
    const input = new Uint8Array(Buffer.from(SAMPLE_LZMA, "base64"));
    expect(() => lzmaDecodeRaw(input, sample().length + 10)).toThrow(/ends after 11256 of 11266/);
  });

  it("refuses data that cannot be LZMA", () => {
    expect(() => lzmaDecodeRaw(new Uint8Array([1, 2, 3, 4, 5, 6]), 10)).toThrow(RangeError);
    expect(() => lzmaDecodeRaw(new Uint8Array(3), 10)).toThrow(RangeError);
    // Random bytes after a valid first byte: a clear error, never a hang.
    const junk = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) & 0xff);
    junk[0] = 0;
    expect(() => lzmaDecodeRaw(junk, 1 << 20)).toThrow(RangeError);
  });

  it.runIf(haveTools(["python3"]))(
    "agrees with liblzma on binary data (python3's lzma)",
    async () => {
      const script = `
import lzma, sys, random
random.seed(7)
words = [bytes(random.randrange(256) for _ in range(random.randrange(1, 40))) for _ in range(300)]
data = b"".join(random.choice(words) if random.random() < 0.8 else bytes([random.randrange(256)]) for _ in range(20000))
c = lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "lc": 3, "lp": 0, "pb": 2, "dict_size": 1 << 16}])
sys.stdout.buffer.write(len(data).to_bytes(4, "little") + data + c)
`;
      const r = await execa("python3", ["-c", script], { encoding: "buffer" });
      const out = new Uint8Array(r.stdout);
      const n = new DataView(out.buffer, out.byteOffset).getUint32(0, true);
      const data = out.subarray(4, 4 + n);
      expect(lzmaDecodeRaw(out.subarray(4 + n), n)).toEqual(data);
    },
  );
});
