/**
 * `probatio autoscale`: the phase's autoscaling rule applied to its backends (ProbatioVault phase 3). Reads the
 * backends' CPU from the stack's Prometheus, decides one step (cli/autoscale/rule.ts), records the new count in the
 * stack's config (`backendCount`, so every later `up` keeps it) and runs a normal `up`: a new backend is created and
 * joins HAProxy's pool by the in-place delivery of the load balancers' configuration; a removed one is the only
 * deletion that `up` accepts. Runs where the operator's credentials are (a cron job or a systemd timer with --once),
 * never on the monitoring machine.
 */
import { Command } from "commander";
import { recordedPhase, setPlainConfig, snapshotStackFile } from "../automation/stackState";
import { openStack, Stack } from "../automation/workspace";
import { CpuSample, decide, Decision, defaultCooldownSeconds } from "../autoscale/rule";
import { queryRange } from "../autoscale/prometheus";
import { poolCpuPercent } from "../../components/config/promql";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { environmentFor, getPhase, RoadmapId } from "../../programs/roadmaps";
import { printJson, ui } from "../ui";
import { CommonOptions, lazy, withStackOptions } from "./common";
import { upCommand, UpSummary } from "./up";

interface AutoscaleOptions extends CommonOptions {
  prometheus: string;
  once?: boolean;
  dryRun?: boolean;
  cooldown?: string;
  interval: string;
  at?: string;
}

export function register(program: Command): void {
  withStackOptions(program.command("autoscale"))
    .description("apply the phase's autoscaling rule to the backends, from their CPU in Prometheus (ProbatioVault phase 3)")
    .requiredOption("--prometheus <url>", "the stack's Prometheus (port 9090 of the monitoring machine, e.g. through an SSH tunnel)")
    .option("--once", "evaluate once and exit (run it from a cron job or a systemd timer)")
    .option("--dry-run", "say what it would do, change nothing")
    .option("--json", "print one JSON object per evaluation")
    .option("--cooldown <minutes>", "never two changes within this many minutes (default: the rule's longest window, 10)")
    .option("--interval <seconds>", "without --once: seconds between evaluations", "60")
    .option("--at <time>", "evaluate as of this ISO 8601 time (replaying recorded metrics); implies --once")
    .action(lazy(() => autoscaleCommand));
}

/** Seconds between the CPU samples read from Prometheus (two scrape intervals). */
const STEP_SECONDS = 30;

export interface AutoscaleReport {
  readonly command: "autoscale";
  readonly stack: string;
  readonly at: string;
  readonly count: number;
  readonly decision: Decision;
  readonly samples: number;
  readonly applied: boolean;
  readonly up?: UpSummary;
}

function positive(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new ProbatioError(`${flag} must be a positive number (got '${value}')`, undefined, ExitCode.usage);
  return n;
}

async function evaluate(opts: AutoscaleOptions, stack: Stack, now: number): Promise<AutoscaleReport> {
  const recorded = await recordedPhase(stack);
  if (!recorded)
    throw new ProbatioError(`stack '${opts.stack}' has no phase deployed`, "deploy a phase first: probatio up --phase N", ExitCode.usage);
  const config = await stack.getAllConfig();
  const phase = getPhase(recorded.roadmap as RoadmapId, recorded.phase);
  const topology = environmentFor(phase, opts.stack, config["probatio:environment"]?.value).topology;
  const rule = topology.scaling;
  const role = topology.loadBalancer?.backendRole;
  if (!rule || !role) {
    throw new ProbatioError(
      `stack '${opts.stack}' is at ${recorded.roadmap} phase ${recorded.phase}, which has no autoscaling rule`,
      "ProbatioVault phase 3 has one (3-10 backends on their CPU); phase 4 scales its pods and nodes itself",
      ExitCode.usage,
    );
  }
  const count = Number(config["probatio:backendCount"]?.value ?? topology.fleets.find((f) => f.role === role)!.count);
  const lastAction = config["probatio:autoscaleLastAction"]?.value;
  const cooldown = 60 * (positive(opts.cooldown, "--cooldown") ?? defaultCooldownSeconds(rule) / 60);
  const windowSeconds = 60 * Math.max(rule.scaleUpForMinutes, rule.scaleDownForMinutes);
  const points = await queryRange(opts.prometheus, poolCpuPercent(role), now - windowSeconds - STEP_SECONDS, now, STEP_SECONDS);
  const samples: CpuSample[] = points.map((p) => ({ at: p.at, percent: p.value }));
  const decision = decide(rule, { count, lastActionAt: lastAction ? Date.parse(lastAction) / 1000 : undefined }, samples, now, cooldown);
  const report = {
    command: "autoscale" as const,
    stack: opts.stack,
    at: new Date(now * 1000).toISOString(),
    count,
    decision,
    samples: samples.length,
  };
  if (decision.kind === "stay" || opts.dryRun) return { ...report, applied: false };

  // The new count is recorded first (the program reads it), and put back if the update does not go through.
  const restore = snapshotStackFile(stack);
  setPlainConfig(stack, { "probatio:backendCount": String(decision.to) });
  const removed = `${role}-${decision.from}`;
  try {
    const up = await upCommand({
      ...opts,
      roadmap: recorded.roadmap,
      phase: String(recorded.phase),
      yes: true,
      quiet: true,
      // Scaling down deletes the last backend (its instance and its configuration), and nothing else.
      expectedDeletion: decision.kind === "remove" ? (name) => name === removed || name.startsWith(`${removed}-`) : undefined,
    });
    setPlainConfig(stack, { "probatio:autoscaleLastAction": report.at });
    return { ...report, applied: true, up };
  } catch (err) {
    restore();
    throw err;
  }
}

function print(r: AutoscaleReport, opts: AutoscaleOptions): void {
  if (opts.json) {
    printJson(r);
    return;
  }
  const d = r.decision;
  const what =
    d.kind === "stay" ? `stay at ${d.count} backends` : `${d.kind === "add" ? "add" : "remove"} one backend (${d.from} -> ${d.to})`;
  const line = `${r.at}: ${what}: ${d.reason}`;
  if (d.kind === "stay") ui.info(line);
  else if (!r.applied) ui.info(`${line} (dry run: nothing changed)`);
  else
    ui.ok(
      `${line}; the stack now runs ${d.to} backends (${Object.entries(r.up?.changes ?? {})
        .map(([k, v]) => `${v} ${k}`)
        .join(", ")})`,
    );
}

export async function autoscaleCommand(opts: AutoscaleOptions): Promise<void> {
  const at = opts.at === undefined ? undefined : Date.parse(opts.at);
  if (at !== undefined && Number.isNaN(at))
    throw new ProbatioError(`--at '${opts.at}' is not an ISO 8601 time`, "e.g. 2026-11-25T10:00:00Z", ExitCode.usage);
  const interval = positive(opts.interval, "--interval")!;
  const stack = await openStack(opts, false);
  for (;;) {
    print(await evaluate(opts, stack, Math.floor((at ?? Date.now()) / 1000)), opts);
    if (opts.once || at !== undefined) return;
    await new Promise((r) => setTimeout(r, interval * 1000));
  }
}
