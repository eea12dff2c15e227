/** What every migration step reads, and the helpers they share: engine updates and checkpoints. */
import { POLICY_PACKS, type Stack } from "../../automation/workspace";
import { ExitCode, ProbatioError } from "../../../lib/errors";
import type { MigrationState } from "../../../programs/stackConfig";
import { ProgressPrinter, runEngine } from "../../automation/operation";
import { readCheckpoint, sameResources, setMigration, snapshotStackFile, writeCheckpointOutput } from "../../automation/stackState";
import { GuardRules, refuseUnsafeChanges } from "../../automation/guard";
import type { MigrationPlan, MigrationStep, StepKind } from "../plans";
import * as traffic from "../traffic";

export interface RunContext {
  readonly stack: Stack;
  readonly plan: MigrationPlan;
  readonly json: boolean;
  readonly log: (line: string) => void;
  /** Stages of the read shift (percent), how long each is watched, and its 5xx gate. */
  readonly traffic: {
    readonly stages: readonly number[];
    readonly observeMs: number;
    readonly maxErrorRate: number;
    /** After the DNS switch, the operator's wait instead of the record's TTL. */
    readonly dnsWaitSeconds?: number;
  };
  /** The operator checked DNS themselves: decommission without resolving the stack's domain. */
  readonly skipDnsCheck?: boolean;
  /** The operator confirms the VPS was resized (a resize move's manual step). */
  readonly resized?: boolean;
}

/**
 * Where the source's HAProxy runtime APIs and the target's entry point are, from the environment: the runtime APIs
 * listen on each load balancer's loopback (reach them through SSH tunnels), the entry point is the target's load
 * balancer as the source's HAProxy sees it.
 */
export function shiftOptions(ctx: RunContext): traffic.ShiftOptions {
  const lbs = process.env.PROBATIO_SOURCE_LB_ADMIN;
  const target = process.env.PROBATIO_TARGET_ENTRY;
  if (!lbs || !target) {
    throw new ProbatioError(
      "PROBATIO_SOURCE_LB_ADMIN and PROBATIO_TARGET_ENTRY must be set (the source's HAProxy runtime APIs, HOST:PORT comma-separated, and the target's entry point, HOST:PORT)",
      "e.g. ssh -N -L 9991:127.0.0.1:9999 lb-1 & ssh -N -L 9992:127.0.0.1:9999 lb-2 & export PROBATIO_SOURCE_LB_ADMIN=127.0.0.1:9991,127.0.0.1:9992 PROBATIO_TARGET_ENTRY=<target load balancer>:443",
      ExitCode.missingConfig,
    );
  }
  return {
    lbs: lbs.split(",").map((x) => traffic.parseEndpoint(x, "PROBATIO_SOURCE_LB_ADMIN")),
    target: traffic.parseEndpoint(target, "PROBATIO_TARGET_ENTRY"),
    stages: ctx.traffic.stages,
    observeMs: ctx.traffic.observeMs,
    maxErrorRate: ctx.traffic.maxErrorRate,
    log: (l) => ctx.log(`    ${l}`),
  };
}

/**
 * An engine update of a migration step, after the engine's preview of it passed the guard (guard.ts): no protected
 * resource replaced or deleted, no machine holding data rebuilt, no replacement or deletion `rules` do not allow.
 * On a refusal the stack's settings file is put back as it was before `prepare` changed it: nothing changed.
 */
export async function guardedUp(
  ctx: RunContext,
  what: string,
  rules: GuardRules,
  prepare: () => Promise<void> = async () => undefined,
  /** Runs once the preview passed, before the update (e.g. releasing the resources `rules.released` names). */
  passed: () => Promise<void> = async () => undefined,
): Promise<Record<string, number>> {
  const restore = snapshotStackFile(ctx.stack);
  await prepare();
  try {
    await refuseUnsafeChanges(ctx.stack, `the migration's '${what}'`, rules);
  } catch (err) {
    restore();
    throw err;
  }
  await passed();
  return engineUp(ctx, what);
}

export async function engineUp(ctx: RunContext, what: string): Promise<Record<string, number>> {
  const printer = new ProgressPrinter(ctx.json);
  const r = await runEngine(ctx.stack.name, (signal) =>
    ctx.stack.up({
      onEvent: printer.onEvent,
      color: "never",
      signal,
      policyPacks: POLICY_PACKS,
      message: `probatio migrate ${ctx.plan.from}-to-${ctx.plan.to}: ${what}`,
    }),
  );
  return r.summary.resourceChanges ?? {};
}

/**
 * Records a completed step in the stack: config for the program, then the state's copy (authoritative). Where the
 * last update built the same resources the new checkpoint asks for, only the state's output is rewritten (an engine
 * update would change nothing else, and costs seconds on every step); otherwise an update carries it.
 */
export async function checkpoint(ctx: RunContext, state: MigrationState, step: string, alreadyUp = false): Promise<MigrationState> {
  const next = { ...state, completed: [...state.completed, step] };
  await setMigration(ctx.stack, next);
  if (alreadyUp) return next;
  if (sameResources(await readCheckpoint(ctx.stack), next) && (await writeCheckpointOutput(ctx.stack, next))) return next;
  await engineUp(ctx, `checkpoint ${step}`);
  return next;
}

export function isTargetUrn(urn: string): boolean {
  return urn.includes("probatio:migration:NextPhase");
}

export interface StepOutcome {
  readonly state: MigrationState;
  readonly detail?: unknown;
}

/** One kind of migration step: what it does, and how `--rollback` undoes it (steps after the cutover cannot be undone). */
export interface StepRunner {
  readonly kind: StepKind;
  run(ctx: RunContext, step: MigrationStep, state: MigrationState): Promise<StepOutcome>;
  /** `--rollback` also undoes this step when it started but did not finish (its undo is safe to run either way). */
  readonly undoUnfinished?: boolean;
  /** Undoes the completed step; returns whether there was something to undo. */
  undo?(ctx: RunContext, state: MigrationState): Promise<boolean>;
}
