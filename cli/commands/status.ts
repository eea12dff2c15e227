/** `probatio status`: the stack's phase, resources, last update and outputs. */
import chalk from "chalk";
import { Command } from "commander";
import { plainOutputs } from "../automation/operation";
import { openStack } from "../automation/workspace";
import { printJson, ui } from "../ui";
import { CommonOptions, lazy, printOutputs, withStackOptions } from "./common";

export function register(program: Command): void {
  withStackOptions(program.command("status"))
    .description("the stack's phase, resources, last update and outputs")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print one JSON object")
    .action(lazy(() => statusCommand));
}

export async function statusCommand(opts: CommonOptions): Promise<void> {
  const stack = await openStack(opts, false);
  const [outputs, history, state] = await Promise.all([stack.outputs(), stack.history(1), stack.exportStack()]);
  const plain = plainOutputs(outputs);
  const resources: { type: string }[] = state.deployment?.resources ?? [];
  const last = history[0];
  const status = {
    stack: opts.stack,
    roadmap: plain.roadmap ?? null,
    phase: plain.phase ?? null,
    environment: plain.environment ?? null,
    resources: resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:")).length,
    lastUpdate: last ? { kind: last.kind, result: last.result, startTime: last.startTime, endTime: last.endTime } : null,
    outputs: plain,
  };
  if (opts.json) {
    printJson(status);
    return;
  }
  ui.heading(`Stack '${opts.stack}'`);
  ui.info(`  roadmap      ${status.roadmap ?? chalk.dim("(nothing deployed)")}`);
  ui.info(`  phase        ${status.phase ?? chalk.dim("-")}`);
  ui.info(`  environment  ${status.environment ?? chalk.dim("-")}`);
  ui.info(`  resources    ${status.resources}`);
  if (last) ui.info(`  last update  ${last.kind} ${last.result} at ${last.endTime ?? last.startTime}`);
  printOutputs(plain);
}
