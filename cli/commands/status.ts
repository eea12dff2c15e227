/** `probatio status`: the stack's phase, resources, last update and outputs. */
import chalk from "chalk";
import { Command } from "commander";
import { plainOutputs } from "../automation/operation";
import { openStack } from "../automation/workspace";
import { printJson, ui } from "../ui";
import { CommonOptions, lazy, printOutputs, withStackOptions } from "./common";
import { MACHINE_CONFIG_TYPE } from "../../components/delivery/configuration";
import { pm2Apps } from "../../components/config/services";
import { environmentFor, getPhase, RoadmapId } from "../../programs/roadmaps";

export function register(program: Command): void {
  withStackOptions(program.command("status"))
    .description("the stack's phase, resources, last update and outputs")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print one JSON object")
    .action(lazy(() => statusCommand));
}

interface StateResource {
  readonly type: string;
  readonly outputs?: Record<string, unknown>;
}

/**
 * Which machines run the configuration the program declares, as the state knows it: what the last delivery applied,
 * or what `refresh` read back from the machines.
 */
export function machineConfigurations(resources: readonly StateResource[]): {
  machines: number;
  older: { machine: string; applied: string; declared: string }[];
} {
  const configs = resources.filter((r) => r.type === MACHINE_CONFIG_TYPE).map((r) => r.outputs ?? {});
  const older = configs
    .filter((o) => o.appliedDigest !== o.digest)
    .map((o) => ({ machine: String(o.machine), applied: String(o.appliedDigest ?? "none"), declared: String(o.digest) }));
  return { machines: configs.length, older };
}

/** The applications under PM2 the stack's phase runs (none before a phase is deployed, or on Kubernetes). */
function phaseApps(outputs: Record<string, unknown>): string[] {
  if (typeof outputs.roadmap !== "string" || typeof outputs.phase !== "number") return [];
  const topology = environmentFor(getPhase(outputs.roadmap as RoadmapId, outputs.phase), String(outputs.environment ?? "prod")).topology;
  return [...new Set(topology.fleets.flatMap((f) => f.services.filter((s) => pm2Apps.has(s))))];
}

export async function statusCommand(opts: CommonOptions): Promise<void> {
  const stack = await openStack(opts, false);
  const [outputs, history, state] = await Promise.all([stack.outputs(), stack.history(1), stack.exportStack()]);
  const plain = plainOutputs(outputs);
  const config = await stack.getAllConfig();
  const releases = JSON.parse(config["probatio:releases"]?.value ?? "{}") as Record<string, { url: string; sha256: string }>;
  const apps = phaseApps(plain);
  const resources: StateResource[] = state.deployment?.resources ?? [];
  const last = history[0];
  const status = {
    stack: opts.stack,
    roadmap: plain.roadmap ?? null,
    phase: plain.phase ?? null,
    environment: plain.environment ?? null,
    resources: resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:")).length,
    lastUpdate: last ? { kind: last.kind, result: last.result, startTime: last.startTime, endTime: last.endTime } : null,
    configuration: machineConfigurations(resources),
    // An application with no release set runs nothing: said here, rather than PM2 restarting a missing script.
    releases: Object.fromEntries(apps.map((a) => [a, releases[a] ? { url: releases[a].url, sha256: releases[a].sha256 } : null])),
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
  for (const [app, r] of Object.entries(status.releases)) {
    ui.info(
      r
        ? `  ${app.padEnd(12)} release ${r.sha256.slice(0, 12)} (${r.url})`
        : chalk.yellow(`  ${app.padEnd(12)} no release set: its machines run nothing yet (probatio deploy ${app} --url ... --sha256 ...)`),
    );
  }
  const c = status.configuration;
  if (c.machines > 0) {
    ui.info(
      c.older.length === 0
        ? `  configuration  ${c.machines} machine(s) run the declared configuration`
        : chalk.yellow(
            `  configuration  ${c.older.length} of ${c.machines} machine(s) run an older configuration: ` +
              c.older.map((o) => `${o.machine} (${o.applied})`).join(", ") +
              "; `probatio up` delivers it (run `probatio refresh` first to read what the machines run now)",
          ),
    );
  }
  printOutputs(plain);
}
