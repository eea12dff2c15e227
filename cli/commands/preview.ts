/** `probatio preview`: the engine's preview of `up`, changing nothing (the stack file is restored byte for byte). */
import { Command } from "commander";
import { ProgressPrinter, runEngine } from "../automation/operation";
import { checkPhaseChange, checkRequiredConfig, setPhaseConfig, snapshotStackFile } from "../automation/stackState";
import { openStack, POLICY_PACKS } from "../automation/workspace";
import { printJson, ui } from "../ui";
import { CommonOptions, describeChanges, lazy, parsePhase, withStackOptions } from "./common";

export function register(program: Command): void {
  withStackOptions(program.command("preview"))
    .description("show what `up` would change, changing nothing")
    .option("-r, --roadmap <name>", "roadmap: probatio or koprogo", "probatio")
    .requiredOption("-p, --phase <n>", "phase number")
    .option("-e, --environment <name>", "environment of the phase (dev, test, staging, prod)")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print one JSON object")
    .action(lazy(() => previewCommand));
}

export async function previewCommand(opts: CommonOptions): Promise<void> {
  const phase = parsePhase(opts);
  const stack = await openStack(opts);
  await checkPhaseChange(stack, phase);
  await checkRequiredConfig(stack, phase, opts.environment);
  // A preview must not change anything, including the stack's recorded phase: it runs with the phase set and
  // restores the previous config afterwards (the engine validates the stack's config, so it cannot be passed in
  // memory to a stack that has never had a phase).
  const restore = snapshotStackFile(stack);
  await setPhaseConfig(stack, phase, opts.environment);
  const printer = new ProgressPrinter(true);
  try {
    const result = await runEngine(opts.stack, (signal) =>
      stack.preview({ onEvent: printer.onEvent, color: "never", signal, policyPacks: POLICY_PACKS }),
    );
    if (opts.json) {
      printJson({
        command: "preview",
        stack: opts.stack,
        roadmap: phase.roadmap,
        phase: phase.phase,
        changes: result.changeSummary,
        policy: { violations: printer.policy },
      });
      return;
    }
    ui.heading(`Preview of ${phase.roadmap} phase ${phase.phase} on stack '${opts.stack}'`);
    ui.info(`  ${describeChanges(result.changeSummary)}`);
    for (const v of printer.policy) ui.warn(`policy ${v.policy} (${v.level}): ${v.message}`);
  } finally {
    restore();
  }
}
