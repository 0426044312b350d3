/**
 * Ends a command with `code` and prints `message` as one line on stderr
 * (prefixed with the tool's name). Code 1 is a failure.
 */
export class ExitError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "ExitError";
    this.exitCode = exitCode;
  }
}

/** A command line that cannot be run as given: exit code 2. */
export class UsageError extends ExitError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}
