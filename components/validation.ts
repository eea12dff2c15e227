import { ProbatioError, ExitCode } from "../lib/errors";

/** Thrown by components' `validate` functions: the message names the argument that is wrong. */
export class ArgumentError extends ProbatioError {
  constructor(component: string, argument: string, problem: string) {
    super(`${component}: argument '${argument}' ${problem}`, undefined, ExitCode.usage);
  }
}

export function requirePositiveInteger(component: string, argument: string, value: number, max?: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new ArgumentError(component, argument, `must be a positive integer (got ${value})`);
  }
  if (max !== undefined && value > max) {
    throw new ArgumentError(component, argument, `must be at most ${max} (got ${value})`);
  }
}

export function requireName(component: string, argument: string, value: string): void {
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(value)) {
    throw new ArgumentError(component, argument, `must be lower-case letters, digits and dashes, starting with a letter (got '${value}')`);
  }
}
