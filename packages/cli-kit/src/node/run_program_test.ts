import { describe, expect, it } from "vitest";
import { ExitError, UsageError } from "../exit_error.ts";
import { memoryIo } from "./memory_io.ts";
import { createProgram, runProgram } from "./run_program.ts";

function tool(io: ReturnType<typeof memoryIo>, action: () => void) {
  const program = createProgram("tool", "1.2.3", io);
  program.command("go").option("--json", "print JSON").action(action);
  return program;
}

describe("runProgram", () => {
  it("maps outcomes to exit codes with one-line errors", async () => {
    let io = memoryIo();
    expect(
      await runProgram(
        tool(io, () => {}),
        ["go"],
        io,
      ),
    ).toBe(0);

    io = memoryIo();
    expect(
      await runProgram(
        tool(io, () => {
          throw new ExitError("disk is full");
        }),
        ["go"],
        io,
      ),
    ).toBe(1);
    expect(io.stderrText()).toBe("tool: disk is full\n");

    io = memoryIo();
    expect(
      await runProgram(
        tool(io, () => {
          throw new UsageError("give a SIZE");
        }),
        ["go"],
        io,
      ),
    ).toBe(2);
    expect(io.stderrText()).toBe("tool: give a SIZE\n");

    io = memoryIo();
    expect(
      await runProgram(
        tool(io, () => {}),
        ["go", "--nope"],
        io,
      ),
    ).toBe(2);
    expect(io.stderrText()).toBe("tool: unknown option '--nope' (see 'tool --help')\n");

    io = memoryIo();
    expect(
      await runProgram(
        tool(io, () => {}),
        ["nothing"],
        io,
      ),
    ).toBe(2);
    expect(io.stderrText()).toMatch(/^tool: unknown command 'nothing'/);
  });

  it("prints no stack unless BIGFILE_DEBUG=1, and ends quietly on EPIPE", async () => {
    const boom = () => {
      throw new RangeError("Cannot read 2 bytes at offset 9");
    };
    let io = memoryIo();
    expect(await runProgram(tool(io, boom), ["go"], io)).toBe(1);
    expect(io.stderrText()).toBe("tool: Cannot read 2 bytes at offset 9\n");
    io = memoryIo({ env: { BIGFILE_DEBUG: "1" } });
    await runProgram(tool(io, boom), ["go"], io);
    expect(io.stderrText()).toMatch(/at .*run_program_test/);
    io = memoryIo();
    const epipe = () => {
      throw Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
    };
    expect(await runProgram(tool(io, epipe), ["go"], io)).toBe(0);
    expect(io.stderrText()).toBe("");
  });

  it("prints help and version to stdout with exit 0", async () => {
    let io = memoryIo();
    expect(
      await runProgram(
        tool(io, () => {}),
        ["--version"],
        io,
      ),
    ).toBe(0);
    expect(io.stdoutText()).toBe("1.2.3\n");
    io = memoryIo();
    expect(
      await runProgram(
        tool(io, () => {}),
        ["go", "--help"],
        io,
      ),
    ).toBe(0);
    expect(io.stdoutText()).toMatch(/--json\s+print JSON/);
  });
});
