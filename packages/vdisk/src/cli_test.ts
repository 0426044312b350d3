import { execFileSync } from "node:child_process";
import { closeSync, constants, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryDevice } from "@bigfile/blockdev";
import { memoryIo } from "@bigfile/cli-kit/node";
import { afterAll, describe, expect, it } from "vitest";
import { imageEqualsRaw, rng, scatteredImage, scratchDir, testBytes } from "./_test_tools.ts";
import { main } from "./cli.ts";
import { writeImageTo } from "./file_sink.ts";
import { openImage } from "./open_image.ts";
import { rawFileImage } from "./raw_file_image.ts";

/** A pipe's two descriptors (read, write), from a child-free trick: a FIFO opened both ways. */
function pipeFds(): [number, number] {
  const fifo = join(dir, `fifo-${Math.random().toString(36).slice(2)}`);
  execFileSync("mkfifo", [fifo]);
  const read = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const write = openSync(fifo, "w");
  return [read, write];
}

const { dir, cleanup } = scratchDir("vdisk-cli-");
afterAll(cleanup);
const raw = scatteredImage(join(dir, "disk.raw"), 40 * (1 << 20), 10, 7);
const dense = join(dir, "dense.raw");
writeFileSync(dense, testBytes(rng(5), 1 << 20));

describe("vdisk convert", () => {
  for (const to of ["qcow2", "vhd", "vhd-fixed", "vmdk", "vmdk-stream", "raw"]) {
    it(`--to ${to}: a file in, a file out, the same disk inside`, async () => {
      const out = join(dir, `out.${to}`);
      const io = memoryIo();
      expect(await main(["convert", "--to", to, raw, out], io)).toBe(0);
      expect(io.stderrText()).toBe("");
      expect(await imageEqualsRaw(out, raw)).toBe(true);
      // and back to raw
      const back = join(dir, `back-from.${to}`);
      expect(await main(["convert", "--to", "raw", out, "-o", back], memoryIo())).toBe(0);
      expect(await imageEqualsRaw(back, raw)).toBe(true);
    });
  }

  for (const to of ["vmdk-stream", "vhd-fixed", "raw", "qcow2", "vhd", "vmdk"]) {
    it(`--to ${to} streams a sparse file to a pipe`, async () => {
      const io = memoryIo();
      expect(await main(["convert", "--to", to, raw], io)).toBe(0);
      const out = join(dir, `piped.${to}`);
      writeFileSync(out, io.stdoutBytes());
      expect(await imageEqualsRaw(out, raw)).toBe(true);
    });
  }

  it("standard output opened to append (>> empty file) is written in order: positional writes would append", async () => {
    for (const to of ["qcow2", "vhd-fixed"]) {
      const out = join(dir, `appended.${to}`);
      writeFileSync(out, "");
      const fd = openSync(out, "a");
      try {
        expect(await main(["convert", "--to", to, raw], { ...memoryIo(), stdoutFd: fd })).toBe(0);
      } finally {
        closeSync(fd);
      }
      expect(await imageEqualsRaw(out, raw), to).toBe(true);
    }
  });

  it("a container in, a table-first format to a pipe: data runs come from its tables", async () => {
    const qcow2 = join(dir, "source.qcow2");
    expect(
      await main(["convert", "--to", "qcow2", "--cluster-size", "4096", raw, qcow2], memoryIo()),
    ).toBe(0);
    for (const to of ["vmdk", "vhd", "qcow2"]) {
      const io = memoryIo();
      expect(await main(["convert", "--to", to, qcow2], io)).toBe(0);
      const out = join(dir, `from-qcow2.${to}`);
      writeFileSync(out, io.stdoutBytes());
      expect(await imageEqualsRaw(out, raw), to).toBe(true);
    }
  });

  it("SOURCE_DATE_EPOCH makes the output reproducible", async () => {
    for (const to of ["vhd", "vmdk-stream", "qcow2"]) {
      const outputs = [];
      for (let run = 0; run < 2; run++) {
        const io = memoryIo({ env: { SOURCE_DATE_EPOCH: "1700000000" } });
        expect(await main(["convert", "--to", to, raw], io)).toBe(0);
        outputs.push(Buffer.from(io.stdoutBytes()));
      }
      expect((outputs[0] as Buffer).equals(outputs[1] as Buffer), to).toBe(true);
    }
  });

  it("writeImageTo: a path atomically, a pipe only when the format can stream", async () => {
    const out = join(dir, "lib.vmdk");
    await writeImageTo(rawFileImage(raw), "vmdk", out);
    expect(readFileSync(out).toString("latin1")).toMatch(/RW 81920 SPARSE "lib.vmdk"/);
    const [read, write] = pipeFds();
    try {
      const dense = {
        size: 4096,
        data: (async function* () {
          yield new Uint8Array(4096);
        })(),
      };
      await expect(writeImageTo(dense, "qcow2", write)).rejects.toThrow(
        /Cannot write qcow2 to a pipe/,
      );
    } finally {
      closeSync(read);
      closeSync(write);
    }
  });

  it("a dense file streams to a pipe too (as one data run)", async () => {
    const io = memoryIo();
    expect(await main(["convert", "--to", "qcow2", dense], io)).toBe(0);
    const out = join(dir, "dense.qcow2");
    writeFileSync(out, io.stdoutBytes());
    expect(await imageEqualsRaw(out, dense)).toBe(true);
  });

  it("--from forces the input format", async () => {
    const qcow2 = join(dir, "forced.qcow2");
    expect(await main(["convert", "--to", "qcow2", raw, qcow2], memoryIo())).toBe(0);
    const copy = join(dir, "forced.copy");
    expect(await main(["convert", "--from", "raw", "--to", "raw", qcow2, copy], memoryIo())).toBe(
      0,
    );
    expect(readFileSync(copy).equals(readFileSync(qcow2))).toBe(true);
    const io = memoryIo();
    expect(await main(["convert", "--from", "vmdk", "--to", "raw", qcow2, copy], io)).toBe(1);
    expect(io.stderrText()).toBe("vdisk: cannot read VMDK image: no KDMV magic\n");
  });

  it("reads a pipe given --size", async () => {
    const bytes = testBytes(rng(1), 300_000);
    const io = memoryIo({ stdin: bytes });
    const out = join(dir, "piped.qcow2");
    expect(await main(["convert", "--to", "qcow2", "--size", "300000", "-o", out], io)).toBe(0);
    const disk = await openImage(new MemoryDevice(readFileSync(out)));
    expect(Buffer.from(await disk.read(0, 300_000)).equals(bytes)).toBe(true);
  });

  it("usage errors exit 2 with one line", async () => {
    const cases: [string[], Parameters<typeof memoryIo>[0], RegExp][] = [
      [
        ["convert", "--to", "qcow2", "-c", raw],
        {},
        /needs a seekable output here .*: give -o FILE/,
      ],
      [["convert", "--to", "vhd", "--size", "1M"], { stdin: "x" }, /needs a seekable output/],
      [["convert", "--to", "vmdk", "--size", "1M"], { stdin: "x" }, /needs a seekable output/],
      [
        ["convert", "--to", "raw", raw],
        { stdoutIsTTY: true },
        /refusing to write binary data to a terminal/,
      ],
      [
        ["convert", "--to", "raw", "-o", join(dir, "x")],
        { stdinIsTTY: true },
        /standard input is a terminal/,
      ],
      [
        ["convert", "--to", "raw", "-o", join(dir, "x")],
        { stdin: "abc" },
        /give its size with --size/,
      ],
      [["convert", "--to", "qcow3", raw], {}, /qcow3/],
      [["convert", raw], {}, /--to/],
      [["convert", "--to", "qcow2", "--cluster-size", "1000", raw, "x"], {}, /power of two/],
      [["convert", "--to", "raw", raw, "a", "-o", "b"], {}, /give the output once/],
      [["convert", "--to", "qcow2", dir, "-o", join(dir, "d.qcow2")], {}, /is a directory/],
      [
        ["convert", "--to", "qcow2", "/dev/null", "-o", join(dir, "n.qcow2")],
        {},
        /\/dev\/null is not a regular file.*--size/,
      ],
    ];
    for (const [args, options, message] of cases) {
      const io = memoryIo(options);
      expect(await main(args, io), args.join(" ")).toBe(2);
      expect(io.stderrText()).toMatch(message);
      expect(io.stderrText().trim().split("\n")).toHaveLength(1);
      expect(io.stdoutBytes().length).toBe(0);
    }
  });

  it("a failure leaves no output file behind", async () => {
    const out = join(dir, "never.qcow2");
    const io = memoryIo({ stdin: new Uint8Array(1000) });
    expect(await main(["convert", "--to", "qcow2", "--size", "4096", "-o", out], io)).toBe(1);
    expect(io.stderrText()).toMatch(
      /^vdisk: cannot convert the image: the source ended at 1000 bytes, expected 4096\n$/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("an existing output is replaced atomically, untouched on failure", async () => {
    const out = join(dir, "keep.qcow2");
    writeFileSync(out, "precious");
    const io = memoryIo({ stdin: new Uint8Array(10) });
    expect(await main(["convert", "--to", "qcow2", "--size", "4096", "-o", out], io)).toBe(1);
    expect(readFileSync(out, "utf8")).toBe("precious");
    expect(await main(["convert", "--to", "qcow2", raw, "-o", out], memoryIo())).toBe(0);
    expect(await imageEqualsRaw(out, raw)).toBe(true);
  });
});

describe("vdisk info", () => {
  it("describes each format, in text and JSON", async () => {
    for (const to of ["qcow2", "vhd", "vhd-fixed", "vmdk", "vmdk-stream"]) {
      const out = join(dir, `info.${to}`);
      expect(await main(["convert", "--to", to, raw, out], memoryIo())).toBe(0);
      const io = memoryIo();
      expect(await main(["info", out, "--json"], io)).toBe(0);
      const info = JSON.parse(io.stdoutText());
      expect(info.format).toBe(to);
      expect(info.virtualSize).toBe(40 * (1 << 20));
      expect(info.allocatedBytes).toBeGreaterThan(0);
      if (to !== "vhd-fixed")
        expect(info.allocatedBytes).toBeLessThan(to === "vhd" ? 24 << 20 : 8 << 20);
      const text = memoryIo();
      expect(await main(["info", out], text)).toBe(0);
      expect(text.stdoutText()).toMatch(
        new RegExp(`file format: ${to}\\nvirtual size: 40 MiB \\(41943040 bytes\\)`),
      );
    }
  });

  it("a corrupt image is one line and exit 1", async () => {
    const out = join(dir, "bad.qcow2");
    expect(await main(["convert", "--to", "qcow2", raw, out], memoryIo())).toBe(0);
    const bytes = readFileSync(out);
    bytes.writeUInt32BE(40, 20); // cluster_bits 40
    writeFileSync(out, bytes);
    const io = memoryIo();
    expect(await main(["info", out], io)).toBe(1);
    expect(io.stderrText()).toBe(
      "vdisk: cannot read qcow2 image: cluster_bits 40 (expected 9 to 21) (at byte 20)\n",
    );
  });

  it("a missing file is one line and exit 1", async () => {
    const io = memoryIo();
    expect(await main(["info", join(dir, "nope")], io)).toBe(1);
    expect(io.stderrText()).toMatch(/^vdisk: cannot open .*nope.*\n$/);
  });
});
