import chalk from "chalk";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { Command } from "commander";
import { translateEngineError } from "../automation/operation";
import { checkRequiredConfig, recordedPhase, warnPendingOperations } from "../automation/stackState";
import { openStack, POLICY_PACKS } from "../automation/workspace";
import { getPhase, getRoadmap } from "../../programs/roadmaps";
import { confirm, printJson, ui } from "../ui";
import { CommonOptions, lazy, withStackOptions } from "./common";

export function register(program: Command): void {
  withStackOptions(program.command("migrate"))
    .description(
      "move a stack to the next phase: preflight, state backup, provision, data, verify, read shift (HAProxy sources), cutover, decommission",
    )
    .option("-r, --roadmap <name>", "roadmap: probatio or koprogo", "probatio")
    .argument("<from-to-to>", "e.g. 0-to-1")
    .option("--dry-run", "print the plan and what each step changes; change nothing")
    .option("--resume", "continue a migration after a crash, Ctrl-C or a failed step")
    .option("--rollback", "undo the completed steps in reverse, up to the cutover")
    .option("--stages <percents>", "shift-reads: shares of the reads sent to the target, ascending, ending at 100", "5,25,50,100")
    .option("--observe <seconds>", "shift-reads: how long each stage is watched before the next", "120")
    .option("--max-error-rate <fraction>", "shift-reads: a stage fails above this share of 5xx responses from the target", "0.01")
    .option(
      "--dns-wait <seconds>",
      "switch-dns: how long to wait after the switch for resolvers to drop the source (default the record's TTL; none behind Cloudflare's proxy)",
    )
    .option("--skip-dns-check", "decommission even if the stack's domain does not resolve to the target yet")
    .option("--strategy <name>", "a move's other strategy (KoproGo 1-to-2: resize, the default, or side-by-side)")
    .option("--resized", "a resize move: confirms the VPS was resized in OVH's manager")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print one JSON object")
    .action(lazy(() => migrateCommand));
}

export interface MigrateOptions extends CommonOptions {
  dryRun?: boolean;
  resume?: boolean;
  rollback?: boolean;
  stages?: string;
  observe?: string;
  maxErrorRate?: string;
  skipDnsCheck?: boolean;
  dnsWait?: string;
  strategy?: string;
  resized?: boolean;
}

/** The traffic settings of `migrate`, checked before anything runs. */
function trafficSettings(opts: MigrateOptions): { stages: number[]; observeMs: number; maxErrorRate: number; dnsWaitSeconds?: number } {
  const { parseStages } = require("../migrations/traffic") as typeof import("../migrations/traffic");
  const observe = Number(opts.observe ?? "120");
  if (!Number.isFinite(observe) || observe < 0)
    throw new ProbatioError(`--observe '${opts.observe}' must be a number of seconds (0 or more)`, undefined, ExitCode.usage);
  const maxErrorRate = Number(opts.maxErrorRate ?? "0.01");
  if (!Number.isFinite(maxErrorRate) || maxErrorRate < 0 || maxErrorRate >= 1)
    throw new ProbatioError(
      `--max-error-rate '${opts.maxErrorRate}' must be a fraction from 0 to below 1, e.g. 0.01`,
      undefined,
      ExitCode.usage,
    );
  const dnsWait = opts.dnsWait === undefined ? undefined : Number(opts.dnsWait);
  if (dnsWait !== undefined && (!Number.isInteger(dnsWait) || dnsWait < 0))
    throw new ProbatioError(`--dns-wait '${opts.dnsWait}' must be a whole number of seconds (0 or more)`, undefined, ExitCode.usage);
  return { stages: parseStages(opts.stages ?? "5,25,50,100"), observeMs: observe * 1000, maxErrorRate, dnsWaitSeconds: dnsWait };
}

type EnginePreview =
  { ran: true; counts: Record<string, number>; resources: { op: string; type: string; name: string }[] } | { ran: false; reason: string };

/**
 * The engine's preview of the provisioning step, against the stack as it is: the program runs with the target's
 * settings passed in memory (nothing is written to the config or the state). Only possible on an existing stack
 * in the source phase with no migration in progress; otherwise the reason is returned and the offline plan stands.
 */
async function enginePreview(plan: import("../migrations/plans").MigrationPlan, opts: MigrateOptions): Promise<EnginePreview> {
  try {
    const probe = await openStack(opts, false);
    const rec = await recordedPhase(probe);
    if (!rec || rec.roadmap !== plan.roadmap || rec.phase !== plan.from)
      return { ran: false, reason: `stack '${opts.stack}' is not deployed in ${plan.roadmap} phase ${plan.from}` };
    if ((await probe.outputs()).migration) return { ran: false, reason: "a migration is in progress on the stack" };
    const migration = {
      roadmap: plan.roadmap,
      from: plan.from,
      to: plan.to,
      stage: plan.strategy === "in-place" ? ("in-place" as const) : ("transitional" as const),
      completed: ["preflight", "state-backup", "provision-target"],
      startedAt: new Date().toISOString(),
    };
    const stack = await openStack(opts, false, plan.strategy === "in-place" ? { phase: plan.to, migration } : { migration });
    await checkRequiredConfig(stack, getPhase(plan.roadmap, plan.to));
    const resources: { op: string; type: string; name: string }[] = [];
    const r = await stack.preview({
      color: "never",
      policyPacks: POLICY_PACKS,
      onEvent: (e) => {
        const m = e.resourcePreEvent?.metadata;
        if (m && m.type !== "pulumi:pulumi:Stack") resources.push({ op: m.op, type: m.type, name: m.urn.split("::").pop() ?? m.urn });
      },
    });
    return {
      ran: true,
      counts: Object.fromEntries(Object.entries(r.changeSummary).filter(([, n]) => (n ?? 0) > 0)) as Record<string, number>,
      resources,
    };
  } catch (err) {
    const why = err instanceof ProbatioError ? err.message : translateEngineError(err, opts.stack).message;
    return { ran: false, reason: `no engine preview: ${why}` };
  }
}

/** `probatio migrate A-to-B`: plan, dry-run, run, resume, roll back. */
export async function migrateCommand(spec: string, opts: MigrateOptions): Promise<void> {
  const { migrationPlan } = await import("../migrations/plans");
  let plan = migrationPlan(opts.roadmap ?? "probatio", spec, opts.strategy);
  if (opts.resume && opts.rollback) throw new ProbatioError("--resume and --rollback exclude each other", undefined, ExitCode.usage);
  const traffic = trafficSettings(opts);

  if (opts.dryRun) {
    const { planPhase } = await import("../../offline/plan");
    const { diffPlans } = await import("../../offline/planDiff");
    // The engine's preview first (a real engine run), then the offline plans, one after the other: the mocks are process-wide.
    const engine = await enginePreview(plan, opts);
    const a = await planPhase({ roadmap: plan.roadmap, phase: plan.from, stack: opts.stack });
    const b = await planPhase({ roadmap: plan.roadmap, phase: plan.to, stack: opts.stack });
    // Side by side, the target is built anew beside the source and the source goes away at the end.
    const d = plan.strategy === "in-place" ? diffPlans(a, b) : { added: b.resources, changed: [], removed: a.resources };
    const changes = {
      added: d.added.map((r) => `${r.type} ${r.name}`),
      changed: d.changed.map((r) => `${r.type} ${r.name} (${r.keys.join(", ")})`),
      removed: d.removed.map((r) => `${r.type} ${r.name}${r.protect ? " [protected: kept in the cloud]" : ""}`),
    };
    const steps = plan.steps.map((s) => ({
      name: s.name,
      kind: s.kind,
      description: s.description,
      engine: s.engine,
      undoable: s.undoable,
      changes:
        s.kind === "provision"
          ? plan.strategy === "in-place"
            ? { added: changes.added, changed: changes.changed }
            : { added: changes.added }
          : s.kind === "decommission"
            ? { removed: changes.removed }
            : undefined,
      ...(s.kind === "provision" ? { preview: engine } : {}),
    }));
    if (opts.json) {
      printJson({
        from: plan.from,
        to: plan.to,
        roadmap: plan.roadmap,
        stack: opts.stack,
        strategy: plan.strategy,
        resize: plan.resize,
        alternatives: plan.alternatives,
        traffic: plan.traffic,
        seedSays: plan.seedSays,
        dryRun: true,
        steps,
        estimate: { fromMonthlyEur: a.estimate.monthlyEur, toMonthlyEur: b.estimate.monthlyEur },
      });
      return;
    }
    ui.heading(
      `${plan.roadmap} ${plan.from}-to-${plan.to} on stack '${opts.stack}' (${plan.strategy}; the seed: ${plan.seedSays}) — dry run, nothing changes`,
    );
    steps.forEach((s, i) => {
      ui.info(`  ${i + 1}. ${chalk.bold(s.name)}${s.undoable ? "" : chalk.yellow(" [cannot be rolled back]")}: ${s.description}`);
      if (s.kind === "provision" && engine.ran) {
        ui.info(
          `       the engine's preview against stack '${opts.stack}': ${Object.entries(engine.counts)
            .map(([k, n]) => `${n} to ${k}`)
            .join(", ")}`,
        );
        for (const r of engine.resources.filter((x) => x.op !== "same"))
          ui.info(
            `       ${r.op === "create" ? chalk.green("+") : r.op === "delete" ? chalk.red("-") : chalk.yellow("~")} ${r.type} ${r.name} (${r.op})`,
          );
        return;
      }
      if (s.kind === "provision") ui.info(chalk.dim(`       (offline plan: ${engine.ran ? "" : engine.reason})`));
      for (const [k, list] of Object.entries(s.changes ?? {}))
        for (const x of list as string[])
          ui.info(`       ${k === "added" ? chalk.green("+") : k === "removed" ? chalk.red("-") : chalk.yellow("~")} ${x}`);
    });
    ui.info(`  cost: ${a.estimate.monthlyEur} -> ${b.estimate.monthlyEur} EUR/month`);
    if (plan.alternatives?.length) ui.info(`  other strategies: ${plan.alternatives.join(", ")} (--strategy)`);
    return;
  }

  const stack = await openStack(opts, false);
  const { readCheckpoint, rollbackMigration, runMigration } = await import("../migrations/run");
  const current = await readCheckpoint(stack);
  const log = (line: string) => {
    if (!opts.json) ui.info(line);
  };
  // A migration in progress keeps the strategy it started with.
  if (current?.strategy && current.from === plan.from && current.to === plan.to) {
    if (opts.strategy && opts.strategy !== current.strategy)
      throw new ProbatioError(
        `the migration in progress uses the '${current.strategy}' strategy`,
        "resume or roll it back as it is",
        ExitCode.refused,
      );
    plan = migrationPlan(plan.roadmap, spec, current.strategy);
  }
  const ctx = { stack, plan, json: !!opts.json, log, traffic, skipDnsCheck: !!opts.skipDnsCheck, resized: !!opts.resized };
  if (current && (opts.resume || opts.rollback)) warnPendingOperations(await stack.exportStack(), ui.warn);

  if (current && (current.from !== plan.from || current.to !== plan.to || current.roadmap !== plan.roadmap)) {
    throw new ProbatioError(
      `stack '${opts.stack}' is in the middle of ${current.roadmap} ${current.from}-to-${current.to}`,
      `finish it with \`probatio migrate ${current.from}-to-${current.to} --stack ${opts.stack} --resume\` or undo it with --rollback`,
      ExitCode.refused,
    );
  }
  if (opts.rollback) {
    if (!current) throw new ProbatioError(`no migration is in progress on stack '${opts.stack}'`, undefined, ExitCode.refused);
    await confirm(`Roll back ${spec} on stack '${opts.stack}' (completed: ${current.completed.join(", ") || "nothing"})?`, opts.yes);
    const undone = await rollbackMigration(ctx, current);
    if (opts.json) printJson({ from: plan.from, to: plan.to, roadmap: plan.roadmap, rolledBack: undone });
    else ui.ok(`rolled back ${undone.join(", ") || "the checkpoints"}; stack '${opts.stack}' is in phase ${plan.from}`);
    return;
  }
  if (current && !opts.resume) {
    throw new ProbatioError(
      `a migration ${current.from}-to-${current.to} is already in progress on stack '${opts.stack}' (done: ${current.completed.join(", ") || "nothing"})`,
      `continue it with --resume, or undo it with --rollback`,
      ExitCode.refused,
    );
  }
  if (!current) {
    if (opts.resume)
      throw new ProbatioError(
        `no migration is in progress on stack '${opts.stack}' to resume`,
        `start it: probatio migrate ${spec} --stack ${opts.stack}`,
        ExitCode.refused,
      );
    const rec = await recordedPhase(stack);
    if (!rec)
      throw new ProbatioError(
        `stack '${opts.stack}' has nothing deployed`,
        `deploy phase ${plan.from} first: probatio up --phase ${plan.from} --stack ${opts.stack}`,
        ExitCode.refused,
      );
    if (rec.roadmap !== plan.roadmap)
      throw new ProbatioError(`stack '${opts.stack}' follows the ${rec.roadmap} roadmap`, `use --roadmap ${rec.roadmap}`, ExitCode.refused);
    if (rec.phase !== plan.from) {
      throw new ProbatioError(
        `stack '${opts.stack}' is in phase ${rec.phase}, not ${plan.from}`,
        rec.phase < Math.max(...getRoadmap(plan.roadmap).phases.map((p) => p.phase))
          ? `the next migration is ${rec.phase}-to-${rec.phase + 1}`
          : undefined,
        ExitCode.refused,
      );
    }
  }
  await confirm(`${current ? "Resume" : "Run"} ${plan.roadmap} ${spec} on stack '${opts.stack}' (${plan.steps.length} steps)?`, opts.yes);
  const t0 = Date.now();
  const results = await runMigration(ctx, current);
  if (opts.json)
    printJson({
      from: plan.from,
      to: plan.to,
      roadmap: plan.roadmap,
      stack: opts.stack,
      completed: true,
      seconds: (Date.now() - t0) / 1000,
      steps: results,
    });
  else ui.ok(`stack '${opts.stack}' migrated to ${plan.roadmap} phase ${plan.to} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}
