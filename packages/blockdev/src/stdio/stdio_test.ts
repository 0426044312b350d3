import { UsageError } from "@bigfile/cli-kit";
import { createProgram, memoryIo, runProgram } from "@bigfile/cli-kit/node";
import { describe, expect, it } from "vitest";
import { checkBinaryInput, checkBinaryOutput, openInput, writeOutput } from "./binary_io.ts";
import { createProgress, withProgress } from "./progress.ts";
import { sizeOption } from "./size_option.ts";

describe("checkBinaryOutput / checkBinaryInput", () => {
  it("refuse a terminal on standard output or input, not a file", () => {
    const io = memoryIo({ stdinIsTTY: true, stdoutIsTTY: true });
    expect(() => checkBinaryOutput(io)).toThrow(UsageError);
    expect(() => checkBinaryOutput(io, "-")).toThrow(/refusing to write binary data to a terminal/);
    expect(() => checkBinaryOutput(io, "out.img")).not.toThrow();
    expect(() => checkBinaryInput(io, undefined, "a partition")).toThrow(
      /standard input is a terminal; pipe a partition in/,
    );
    expect(() => checkBinaryInput(io, "in.img")).not.toThrow();
  });
});

describe("openInput / writeOutput", () => {
  it("copy standard input to standard output over Node streams", async () => {
    const bytes = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
    const io = memoryIo({ stdin: bytes });
    const result = await writeOutput(io, openInput(io));
    expect(result.bytes).toBe(3000);
    expect(io.stdoutBytes()).toEqual(bytes);
  });
});

describe("sizeOption", () => {
  it("parses sizes and makes a bad one a usage error naming the option", async () => {
    expect(sizeOption("4141875200")).toBe(4141875200);
    expect(sizeOption("8080632s")).toBe(8080632 * 512);
    expect(sizeOption("4G")).toBe(4 * 2 ** 30);
    const io = memoryIo();
    const program = createProgram("tool", "1.0.0", io);
    program.option("--size <SIZE>", "image size", sizeOption).action(() => {});
    expect(await runProgram(program, ["--size", "big"], io)).toBe(2);
    expect(io.stderrText()).toMatch(/^tool: option '--size <SIZE>' argument 'big' is invalid\. /);
  });
});

describe("createProgress", () => {
  it("stays silent when stderr is not a terminal or in CI", () => {
    const io = memoryIo({ env: { CI: "true" } });
    const progress = createProgress({ ...io, stderrIsTTY: true }, "copy", 100);
    progress.update(50);
    progress.finish();
    expect(io.stderrText()).toBe("");
  });
});

describe("withProgress", () => {
  it("passes every chunk through unchanged and in order", async () => {
    const io = memoryIo({ env: {} });
    const chunks = [new Uint8Array([1, 2]), new Uint8Array([3])];
    async function* source() {
      yield* chunks;
    }
    const seen: Uint8Array[] = [];
    for await (const chunk of withProgress(io, "copy", 3, source())) seen.push(chunk);
    expect(seen).toEqual(chunks);
    expect(io.stderrText()).toBe("");
  });
});
