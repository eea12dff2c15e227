/** `probatio up`: deploys a phase to a stack; refuses surprise deletions and replacements. */
import { Command } from "commander";
import { plainOutputs, ProgressPrinter, runEngine } from "../automation/operation";
import {
  checkPhaseChange,
  checkRequiredConfig,
  refuseDeletions,
  setPhaseConfig,
  snapshotStackFile,
  warnClosedSsh,
  warnPendingOperations,
} from "../automation/stackState";
import { openStack, POLICY_PACKS, Stack } from "../automation/workspace";
import { MACHINE_CONFIG_TYPE } from "../../components/delivery/configuration";
import { ExitCode, ProbatioError } from "../../lib/errors";
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
    .option(
      "--replace-config <machine...>",
      "deliver a machine's configuration afresh and pin its new SSH host key (a machine rebuilt on purpose)",
    )
    .action(lazy(() => async (opts: CommonOptions) => void (await upCommand(opts))));
}

/** The URNs of the named machines' configuration resources; an unknown machine is a usage error. */
async function machineConfigUrns(stack: Stack, machines: readonly string[]): Promise<string[]> {
  if (machines.length === 0) return [];
  const resources: { urn: string; type: string; outputs?: { machine?: string } }[] =
    (await stack.exportStack()).deployment?.resources ?? [];
  const configs = resources.filter((r) => r.type === MACHINE_CONFIG_TYPE);
  return machines.map((m) => {
    const found = configs.find((r) => r.outputs?.machine === m);
    if (!found) {
      throw new ProbatioError(
        `no configuration of a machine named '${m}' in the stack`,
        `machines: ${configs.map((r) => r.outputs?.machine).join(", ")}`,
        ExitCode.usage,
      );
    }
    return found.urn;
  });
}

/** What an `up` did (its JSON output). */
export interface UpSummary {
  readonly result: string;
  readonly changes: Record<string, number>;
  readonly durationSeconds: number;
}

export async function upCommand(opts: CommonOptions): Promise<UpSummary> {
  const phase = parsePhase(opts);
  const stack = await openStack(opts);
  await checkPhaseChange(stack, phase);
  await checkRequiredConfig(stack, phase, opts.environment);
  await warnClosedSsh(stack, phase, ui.warn, opts.environment);
  await confirm(`Deploy ${phase.roadmap} phase ${phase.phase} (${phase.name}) to stack '${opts.stack}'?`, opts.yes);
  const exported = await stack.exportStack();
  warnPendingOperations(exported, ui.warn);
  const restore = snapshotStackFile(stack);
  await setPhaseConfig(stack, phase, opts.environment);
  try {
    await refuseDeletions(stack, opts.expectedDeletion, opts.allowDeletions, exported);
  } catch (err) {
    restore();
    throw err;
  }
  const replace = await machineConfigUrns(stack, (opts as { replaceConfig?: string[] }).replaceConfig ?? []);
  const printer = new ProgressPrinter(!!opts.json || !!opts.quiet);
  if (!opts.json && !opts.quiet) ui.heading(`Updating stack '${opts.stack}': ${phase.roadmap} phase ${phase.phase}`);
  const t0 = Date.now();
  const result = await runEngine(opts.stack, (signal) =>
    stack.up({ onEvent: printer.onEvent, color: "never", signal, replace, policyPacks: POLICY_PACKS }),
  );
  const changes = result.summary.resourceChanges ?? {};
  const outputs = plainOutputs(result.outputs);
  const summary = { result: result.summary.result, changes, durationSeconds: (Date.now() - t0) / 1000 };
  if (opts.quiet) return summary;
  if (opts.json) {
    printJson({
      command: "up",
      stack: opts.stack,
      roadmap: phase.roadmap,
      phase: phase.phase,
      result: result.summary.result,
      changes,
      outputs,
      durationSeconds: summary.durationSeconds,
    });
    return summary;
  }
  ui.ok(
    `stack '${opts.stack}' is at ${phase.roadmap} phase ${phase.phase}: ${describeChanges(changes)} in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
  );
  printOutputs(outputs);
  return summary;
}
