/**
 * An error the operator can act on: a message that says what is wrong, and a hint that says what to do next.
 * The CLI prints these without a stack trace and exits with `exitCode`.
 */
export class ProbatioError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = "ProbatioError";
  }
}

/** Exit codes the CLI uses, so scripts can tell failures apart. */
export const ExitCode = {
  failure: 1,
  usage: 2,
  locked: 3,
  noEngine: 4,
  missingConfig: 5,
  refused: 6,
  interrupted: 130,
} as const;
