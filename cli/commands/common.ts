import chalk from "chalk";
import { Command } from "commander";
import { ui } from "../ui";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { getPhase, getRoadmap, Phase, RoadmapId } from "../../programs/roadmaps";

export interface CommonOptions {
  stack: string;
  roadmap?: string;
  phase?: string;
  backend?: string;
  dir?: string;
  json?: boolean;
  yes?: boolean;
  environment?: string;
  /** up: go ahead even when the update deletes or replaces resources. */
  allowDeletions?: boolean;
  /** up, for a caller that removes something on purpose (the autoscaler a backend): the deletions it expects. */
  expectedDeletion?: (name: string, type: string) => boolean;
  /** up: print nothing (the caller reports). */
  quiet?: boolean;
}

export function withStackOptions(cmd: Command, stackRequired = true): Command {
  const withDirs = cmd
    .option("--backend <url>", "state backend URL (default $PULUMI_BACKEND_URL, else file://~/.probatio/state)")
    .option(
      "--dir <path>",
      "project directory holding Pulumi.yaml and Pulumi.<stack>.yaml (default: current directory if it has Pulumi.yaml, else probatio's own)",
    );
  const stack = ["-s, --stack <name>", "stack name (e.g. dev, prod)"] as const;
  return stackRequired ? withDirs.requiredOption(...stack) : withDirs.option(...stack);
}

/** Parses --roadmap and --phase into a phase of the roadmap data; unknown values are usage errors. */
export function parsePhase(opts: { roadmap?: string; phase?: string }): Phase {
  const roadmap = opts.roadmap ?? "probatio";
  getRoadmap(roadmap);
  if (opts.phase === undefined) throw new ProbatioError("--phase is required", "e.g. --phase 0", ExitCode.usage);
  if (!/^\d+$/.test(opts.phase)) throw new ProbatioError(`--phase must be a number (got '${opts.phase}')`, undefined, ExitCode.usage);
  return getPhase(roadmap as RoadmapId, Number(opts.phase));
}

/** A command's handler, loaded when the command runs: start-up loads no engine, program or provider SDK. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander passes each command's own arguments
export type Action = (...args: any[]) => Promise<void>;
export function lazy(load: () => Action): Action {
  return async (...args: unknown[]) => load()(...args);
}

export function describeChanges(changes: Record<string, number>): string {
  const order = ["create", "update", "replace", "delete", "same"];
  const parts = order.filter((k) => changes[k]).map((k) => `${changes[k]} ${k === "same" ? "unchanged" : k + "d"}`);
  const changed = order.slice(0, 4).some((k) => changes[k]);
  return changed ? parts.join(", ") : `no changes${changes.same ? ` (${changes.same} unchanged)` : ""}`;
}

export function printOutputs(outputs: Record<string, unknown>): void {
  if (Object.keys(outputs).length === 0) return;
  ui.info(chalk.bold("Outputs:"));
  for (const [k, v] of Object.entries(outputs)) ui.info(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
}
