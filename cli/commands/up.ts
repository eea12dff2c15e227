/** `probatio up`: deploys a phase to a stack; refuses surprise deletions and replacements. */
import { Command } from "commander";
import { plainOutputs, ProgressPrinter, runEngine } from "../automation/operation";
import { checkPhaseChange, checkRequiredConfig, refuseDeletions, setPhaseConfig, snapshotStackFile } from "../automation/stackState";
import { openStack } from "../automation/workspace";
import { confirm, printJson, ui } from "../ui";
import { CommonOptions, describeChanges, lazy, parsePhase, printOutputs, withStackOptions } from "./common";

export function register(program: Command): void {
  withStackOptions(program.command("up"))
    .description("deploy a phase to a stack (asks for confirmation)")
    .option("-r, --roadmap <name>", "roadmap: probatio or koprogo", "probatio")
    .requiredOption("-p, --phase <n>", "phase number")
    .option("-e, --environment <name>", "environment of the phase (dev, test, staging, prod)")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print one JSON object")
    .option("--allow-deletions", "go ahead when the update would delete or replace resources (refused otherwise)")
    .action(lazy(() => upCommand));
}

export async function upCommand(opts: CommonOptions): Promise<void> {
  const phase = parsePhase(opts);
  const stack = await openStack(opts);
  await checkPhaseChange(stack, phase);
  await checkRequiredConfig(stack, phase, opts.environment);
  await confirm(`Deploy ${phase.roadmap} phase ${phase.phase} (${phase.name}) to stack '${opts.stack}'?`, opts.yes);
  const restore = snapshotStackFile(stack);
  await setPhaseConfig(stack, phase, opts.environment);
  if (!opts.allowDeletions) {
    try {
      await refuseDeletions(stack);
    } catch (err) {
      restore();
      throw err;
    }
  }
  const printer = new ProgressPrinter(!!opts.json);
  if (!opts.json) ui.heading(`Updating stack '${opts.stack}': ${phase.roadmap} phase ${phase.phase}`);
  const t0 = Date.now();
  const result = await runEngine(opts.stack, (signal) => stack.up({ onEvent: printer.onEvent, color: "never", signal }));
  const changes = result.summary.resourceChanges ?? {};
  const outputs = plainOutputs(result.outputs);
  if (opts.json) {
    printJson({
      command: "up",
      stack: opts.stack,
      roadmap: phase.roadmap,
      phase: phase.phase,
      result: result.summary.result,
      changes,
      outputs,
      durationSeconds: (Date.now() - t0) / 1000,
    });
    return;
  }
  ui.ok(
    `stack '${opts.stack}' is at ${phase.roadmap} phase ${phase.phase}: ${describeChanges(changes)} in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
  );
  printOutputs(outputs);
}
