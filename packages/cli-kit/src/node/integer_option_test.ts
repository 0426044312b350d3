import { describe, expect, it } from "vitest";
import { integerOption } from "./integer_option.ts";
import { memoryIo } from "./memory_io.ts";
import { parseOptionValue } from "./parse_option_value.ts";
import { createProgram, runProgram } from "./run_program.ts";

describe("integerOption", () => {
  it("parses decimal and 0x hex", () => {
    expect(integerOption("0")).toBe(0);
    expect(integerOption("4040316")).toBe(4040316);
    expect(integerOption("0x1F")).toBe(31);
  });

  it("makes a bad value a usage error naming the option", async () => {
    const io = memoryIo();
    const program = createProgram("tool", "1.0.0", io);
    program.option("--partition <N>", "partition number", integerOption).action(() => {});
    expect(await runProgram(program, ["--partition", "-1"], io)).toBe(2);
    expect(io.stderrText()).toBe(
      "tool: option '--partition <N>' argument '-1' is invalid. '-1' is not a non-negative integer (see 'tool --help')\n",
    );
  });
});

describe("parseOptionValue", () => {
  it("returns what the parser returns and turns its error into a usage error", async () => {
    const even = (value: string) =>
      parseOptionValue(value, (text) => {
        const n = Number(text);
        if (n % 2 !== 0) throw new RangeError(`'${text}' is not even`);
        return n;
      });
    expect(even("4")).toBe(4);
    const io = memoryIo();
    const program = createProgram("tool", "1.0.0", io);
    program.argument("<N>", "an even number", even).action(() => {});
    expect(await runProgram(program, ["3"], io)).toBe(2);
    expect(io.stderrText()).toMatch(/^tool: .*'3' is not even/);
  });
});
