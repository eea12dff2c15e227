/** `probatio refresh`: reads the cloud's state back into the stack. */
import { Command } from "commander";
import { ProgressPrinter, runEngine } from "../automation/operation";
import { openStack } from "../automation/workspace";
import { printJson, ui } from "../ui";
import { CommonOptions, describeChanges, lazy, withStackOptions } from "./common";

export function register(program: Command): void {
  withStackOptions(program.command("refresh"))
    .description("read the real state of the stack's resources back into the state")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print one JSON object")
    .action(lazy(() => refreshCommand));
}

export async function refreshCommand(opts: CommonOptions): Promise<void> {
  const stack = await openStack(opts, false);
  const printer = new ProgressPrinter(!!opts.json);
  const result = await runEngine(opts.stack, (signal) => stack.refresh({ onEvent: printer.onEvent, color: "never", signal }));
  if (opts.json) {
    printJson({ command: "refresh", stack: opts.stack, result: result.summary.result, changes: result.summary.resourceChanges ?? {} });
    return;
  }
  ui.ok(`stack '${opts.stack}' refreshed: ${describeChanges(result.summary.resourceChanges ?? {})}`);
}
