/**
 * `probatio estimate`: what a phase costs (each price with its source), how available its topology is (series and
 * parallel, each figure with its source, beside the seed's target, with the single points of failure left), what it
 * can carry (from the seed's one measured figure, formula shown), and where the seed's own tables disagree. Offline.
 */
import chalk from "chalk";
import { Command } from "commander";
import { availabilityOf } from "../../offline/availability";
import { capacityOf } from "../../offline/capacity";
import { estimatePhase } from "../../offline/estimate";
import { environmentFor, getRoadmap } from "../../programs/roadmaps";
import { seedInconsistencies } from "../../programs/roadmaps/seedChecks";
import { loadPrices, withOverrides } from "../../programs/prices";
import { printJson, ui } from "../ui";
import { CommonOptions, lazy, parsePhase, withStackOptions } from "./common";

interface EstimateOptions extends Partial<CommonOptions> {
  environment?: string;
}

export function register(program: Command): void {
  withStackOptions(program.command("estimate"), false)
    .description("offline: a phase's cost (with each price's source), availability, capacity, and the seed's inconsistencies")
    .option("-r, --roadmap <name>", "roadmap: probatio or koprogo", "probatio")
    .requiredOption("-p, --phase <n>", "phase number")
    .option("-e, --environment <name>", "environment of the phase (dev, test, staging, prod)")
    .option("--json", "print one JSON object")
    .action(lazy(() => estimateCommand));
}

/** The stack's `priceOverrides` (read through the engine's workspace: only with --stack). */
async function stackOverrides(opts: EstimateOptions): Promise<Record<string, number>> {
  if (!opts.stack) return {};
  const { openStack } = await import("../automation/workspace");
  const stack = await openStack({ ...opts, stack: opts.stack } as CommonOptions, false);
  const raw = (await stack.getAllConfig())["probatio:priceOverrides"]?.value;
  return raw ? (JSON.parse(raw) as Record<string, number>) : {};
}

export async function estimateCommand(opts: EstimateOptions): Promise<void> {
  const phase = parsePhase(opts);
  const roadmap = getRoadmap(phase.roadmap);
  const env = environmentFor(phase, opts.stack ?? "prod", opts.environment).name;
  const overrides = await stackOverrides(opts);
  const prices = withOverrides(loadPrices(), overrides, opts.stack ?? "", new Date().toISOString().slice(0, 10));
  const cost = estimatePhase(phase, env, prices);
  const availability = availabilityOf(phase, env);
  const capacity = capacityOf(roadmap, phase, env);
  const seed = seedInconsistencies(phase.roadmap, phase.phase);
  if (opts.json) {
    printJson({
      command: "estimate",
      roadmap: phase.roadmap,
      phase: phase.phase,
      environment: env,
      cost,
      availability,
      capacity,
      seedInconsistencies: seed,
    });
    return;
  }
  ui.heading(`${roadmap.title} phase ${phase.phase} (${env}): ${phase.name}`);
  ui.info(chalk.bold(`cost: ${cost.monthlyEur} EUR/month`) + ` (prices of ${cost.prices.date}, ${cost.prices.origin})`);
  for (const i of cost.items) {
    process.stdout.write(
      `  ${String(i.monthlyEur).padStart(8)}  ${i.quantity} x ${i.unitMonthlyEur}  ${i.item}  ${chalk.dim(`[${i.source} ${i.date}: ${i.reference}]`)}\n`,
    );
  }
  if (cost.allEnvironmentsMonthlyEur !== cost.monthlyEur) ui.info(`  all environments: ${cost.allEnvironmentsMonthlyEur} EUR/month`);
  ui.info(
    `  seed: ${cost.seedAsWritten ?? "~" + cost.seedMonthlyEur + " EUR"} (${cost.deltaPercent >= 0 ? "+" : ""}${cost.deltaPercent} %)`,
  );
  const a = availability;
  ui.info(
    chalk.bold(`availability: ${a.percent.toFixed(3)} %`) +
      ` (${a.downtimeHoursPerYear.toFixed(1)} h down a year); seed target ${a.targetPercent} %: ${a.meetsTarget ? chalk.green("met") : chalk.red("not met")}`,
  );
  for (const t of a.tiers) {
    process.stdout.write(
      `  ${t.percent.toFixed(4).padStart(9)} %  ${t.name}: ${t.needed} of ${t.nodes} x ${t.nodePercent} %${t.failover ? `, failover ${t.failover}` : ""}${t.spof ? chalk.red(" [single point of failure]") : ""}  ${chalk.dim(`[${t.source}]`)}\n`,
    );
  }
  ui.info(chalk.dim(`  ${a.formula}`));
  const c = capacity;
  ui.info(
    chalk.bold(`capacity: ${c.requestsPerSecond.min}-${c.requestsPerSecond.max} req/s, ${c.users.min}-${c.users.max} ${c.usersUnit}`),
  );
  ui.info(chalk.dim(`  ${c.formula}; ${c.source}`));
  for (const v of c.versusSeed) ui.warn(`  ${v}`);
  if (seed.length) ui.info(chalk.bold(`the seed disagrees with itself (${seed.length}):`));
  for (const s of seed) ui.info(`  - ${s.says}: ${s.computed}`);
}
