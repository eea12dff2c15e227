import chalk from "chalk";
import { createInterface } from "readline";
import { ExitCode, ProbatioError } from "../lib/errors";

export const ui = {
  info: (msg: string) => process.stderr.write(msg + "\n"),
  ok: (msg: string) => process.stderr.write(chalk.green("✔ ") + msg + "\n"),
  warn: (msg: string) => process.stderr.write(chalk.yellow("! ") + msg + "\n"),
  heading: (msg: string) => process.stderr.write(chalk.bold(msg) + "\n"),
};

/** Prints one JSON document on stdout (the only thing --json writes there). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/**
 * Asks the operator to confirm a change. With --yes it does not ask; with no terminal and no --yes it refuses
 * rather than hang or assume.
 */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) {
    throw new ProbatioError(
      "refusing to change infrastructure without confirmation: no terminal to ask on",
      "pass --yes to confirm",
      ExitCode.refused,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new ProbatioError("cancelled: nothing was changed", undefined, ExitCode.refused);
}

/** Prints an error the operator can act on and returns the exit code; never a stack trace unless PROBATIO_DEBUG is set. */
export function reportError(err: unknown): number {
  if (err instanceof ProbatioError) {
    process.stderr.write(chalk.red("error: ") + err.message + "\n");
    if (err.hint) process.stderr.write(chalk.cyan("what to do: ") + err.hint + "\n");
    if (process.env.PROBATIO_DEBUG) process.stderr.write(String(err.stack) + "\n");
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(chalk.red("error: ") + message.trim() + "\n");
  if (process.env.PROBATIO_DEBUG && err instanceof Error) process.stderr.write(String(err.stack) + "\n");
  return ExitCode.failure;
}
