/**
 * Runs a migration plan against a stack: every completed step is checkpointed in the stack (the program exports
 * the migration state as an output, so it lives in the state backend with the resources), `--resume` continues
 * after a crash, Ctrl-C or a failed step, and `--rollback` undoes what it can, in reverse, up to the cutover.
 * What each step does lives in steps/<step>.ts.
 */
import chalk from "chalk";
import { ExitCode, ProbatioError } from "../../lib/errors";
import type { MigrationState } from "../../programs/stackConfig";
import { setMigration } from "../automation/stackState";
import { engineUp } from "./steps/context";
import { RunContext, stepRunners } from "./steps";

export type { RunContext } from "./steps";
export { readCheckpoint } from "../automation/stackState";

export async function runMigration(ctx: RunContext, resume?: MigrationState): Promise<unknown[]> {
  const { stack, plan } = ctx;
  // Until the target is provisioned the program builds the source phase only ("in-place" stage); a side-by-side
  // provisioning switches the stack to the transitional stage that holds both.
  let state: MigrationState = resume ?? {
    roadmap: plan.roadmap,
    from: plan.from,
    to: plan.to,
    strategy: plan.resize ? "resize" : plan.alternatives?.length ? plan.strategy : undefined,
    stage: "in-place",
    completed: [],
    startedAt: new Date().toISOString(),
  };
  const results: unknown[] = [];
  for (const step of plan.steps) {
    if (state.completed.includes(step.name)) {
      ctx.log(`${chalk.dim("✔")} ${step.name} ${chalk.dim("(done earlier)")}`);
      continue;
    }
    ctx.log(`${chalk.bold("▶")} ${step.name}: ${step.description}`);
    await holdForTest(step.name);
    const t0 = Date.now();
    const { state: next, detail } = await stepRunners[step.kind].run(ctx, step, state);
    state = next;
    const seconds = (Date.now() - t0) / 1000;
    results.push({ step: step.name, seconds, detail });
    ctx.log(`${chalk.green("✔")} ${step.name} ${chalk.dim(`${seconds.toFixed(1)}s`)}`);
  }
  if (plan.strategy === "in-place") {
    await setMigration(stack, undefined);
    await engineUp(ctx, "finish");
  }
  return results;
}

/**
 * Fault injection for the recovery tests: with PROBATIO_TEST_HOLD_AT_STEP naming a step, the run stops at that step's
 * start (announced, nothing of it done) until it is killed, so that a kill "at the start" lands there and not, by a
 * race with a quick step, after it.
 */
async function holdForTest(step: string): Promise<void> {
  if (process.env.PROBATIO_TEST_HOLD_AT_STEP !== step) return;
  process.stderr.write(`(test) held at the start of ${step}\n`);
  await new Promise(() => undefined);
}

/** Undoes the completed steps in reverse (and an unfinished one whose undo is safe), up to the cutover. */
export async function rollbackMigration(ctx: RunContext, state: MigrationState): Promise<string[]> {
  const { stack, plan } = ctx;
  const irreversible = plan.steps.filter((s) => !s.undoable && state.completed.includes(s.name));
  if (irreversible.length > 0) {
    throw new ProbatioError(
      `the ${irreversible[0].name} is done: the target has taken writes since, so probatio cannot undo it automatically`,
      "the source is still there, frozen read-only; to go back, replicate the target back to it (`probatio data` with the URLs swapped) and restore the state backup taken at the start",
      ExitCode.refused,
    );
  }
  const done = plan.steps.filter((s) => state.completed.includes(s.name));
  const unfinished = plan.steps.find((s) => !state.completed.includes(s.name));
  const toUndo = [...done, ...(unfinished && stepRunners[unfinished.kind].undoUnfinished ? [unfinished] : [])].reverse();
  const undone: string[] = [];
  for (const step of toUndo) {
    const runner = stepRunners[step.kind];
    if (runner.undo && (await runner.undo(ctx, state)) && state.completed.includes(step.name)) undone.push(step.name);
  }
  if (!undone.some((name) => plan.steps.find((s) => s.name === name)?.kind === "provision")) {
    // Nothing was provisioned: the stack only drops the migration's checkpoint.
    await setMigration(stack, undefined);
    await engineUp(ctx, "roll back");
  }
  return undone;
}
