import chalk from "chalk";
import type { PlanResult } from "../../offline/plan";
import { printJson, ui } from "../ui";
import { Command } from "commander";
import { lazy, parsePhase } from "./common";

export function register(program: Command): void {
  program
    .command("plan")
    .description("offline: what a phase declares (resources, protection) and what it costs; no engine, no credentials")
    .option("-r, --roadmap <name>", "roadmap: probatio or koprogo", "probatio")
    .requiredOption("-p, --phase <n>", "phase number")
    .option("-s, --stack <name>", "stack name (default prod)")
    .option("-e, --environment <name>", "environment of the phase (dev, test, staging, prod)")
    .option("--diff <n>", "show what moving from phase <n> to --phase adds, changes and removes")
    .option("--json", "print one JSON object")
    .action(lazy(() => planCommand));
}

export interface PlanOptions {
  phase?: string;
  roadmap?: string;
  stack?: string;
  environment?: string;
  json?: boolean;
  diff?: string;
}

/** `probatio plan`: offline, from the real program under mocks. No engine, no credentials. */
export async function planCommand(opts: PlanOptions): Promise<void> {
  const phase = parsePhase(opts);
  const stack = opts.stack ?? "prod";
  const { planPhase } = await import("../../offline/plan");
  const result = await planPhase({ roadmap: phase.roadmap, phase: phase.phase, stack, environment: opts.environment });
  if (opts.diff !== undefined) {
    const from = parsePhase({ roadmap: phase.roadmap, phase: opts.diff });
    const before = await planPhase({ roadmap: from.roadmap, phase: from.phase, stack, environment: undefined });
    const { diffPlans } = await import("../../offline/planDiff");
    const diff = diffPlans(before, result);
    if (opts.json) {
      printJson({ roadmap: phase.roadmap, from: from.phase, to: phase.phase, stack, ...diff });
      return;
    }
    ui.heading(`${phase.roadmap}: phase ${from.phase} -> ${phase.phase} on stack '${stack}'`);
    for (const r of diff.added) ui.info(`  ${chalk.green("+")} ${r.type} ${r.name}`);
    for (const r of diff.changed) ui.info(`  ${chalk.yellow("~")} ${r.type} ${r.name} (${r.keys.join(", ")})`);
    for (const r of diff.removed)
      ui.info(
        `  ${chalk.red("-")} ${r.type} ${r.name}${r.protect ? chalk.red(" [protected: kept until a migration moves its data]") : ""}`,
      );
    ui.info(
      `  ${diff.added.length} added, ${diff.changed.length} changed, ${diff.removed.length} removed; cost ${before.estimate.monthlyEur} -> ${result.estimate.monthlyEur} EUR/month`,
    );
    return;
  }
  if (opts.json) {
    const { componentOutputs: _omit, componentOutputsByUrn: _omitToo, ...json } = result;
    printJson(json);
  } else printHuman(result);
  const { refuseMandatory } = await import("../../policy/evaluate");
  refuseMandatory(result.policy, `${phase.roadmap} phase ${phase.phase} on stack '${stack}'`);
}

function printHuman(r: PlanResult): void {
  const { getPhase } = require("../../programs/roadmaps") as typeof import("../../programs/roadmaps");
  const phase = getPhase(r.roadmap, r.phase);
  ui.heading(`${r.roadmap} phase ${r.phase}: ${phase.name} (stack '${r.stack}', environment '${r.environment}')`);
  ui.info(`  ${phase.summary}`);
  const t = phase.targets;
  ui.info(
    `  targets: ${t.users.min}${t.users.max ? "-" + t.users.max : "+"} ${t.usersUnit}, availability ${t.availability} %` +
      (t.requestsPerSecond ? `, ${t.requestsPerSecond.min}${t.requestsPerSecond.max ? "-" + t.requestsPerSecond.max : "+"} req/s` : "") +
      (t.latencyP95Ms ? `, P95 < ${t.latencyP95Ms} ms` : ""),
  );
  const components = r.resources.filter((x) => !x.custom);
  for (const c of components) {
    const children = r.resources.filter((x) => x.custom && x.parent === c.name);
    ui.info(`  ${chalk.bold(c.name)} ${chalk.dim(c.type)}`);
    for (const ch of children) ui.info(`    ${ch.protect ? chalk.yellow("🔒") : " "} ${ch.type} ${ch.name}`);
  }
  const loose = r.resources.filter((x) => x.custom && x.parent === null);
  for (const ch of loose) ui.info(`  ${ch.protect ? chalk.yellow("🔒") : " "} ${ch.type} ${ch.name}`);
  const e = r.estimate;
  ui.info(`  ${r.resources.filter((x) => x.custom).length} resources, ${r.resources.filter((x) => x.protect).length} protected`);
  ui.info(
    `  estimate: ${e.monthlyEur} EUR/month for '${e.environment}'` +
      (e.allEnvironmentsMonthlyEur !== e.monthlyEur ? `, ${e.allEnvironmentsMonthlyEur} EUR/month for all environments` : "") +
      `; seed: ${e.seedAsWritten ?? "~" + e.seedMonthlyEur + " EUR/month"} (${e.deltaPercent >= 0 ? "+" : ""}${e.deltaPercent} %)`,
  );
  const { violations, counts } = r.policy;
  ui.info(`  policy (policy/rules.ts): ${counts.mandatory} mandatory, ${counts.advisory} advisory violations`);
  for (const v of violations)
    ui.info(`    ${v.level === "mandatory" ? chalk.red("✗") : chalk.yellow("!")} ${v.policy}: ${v.resource} ${v.message}`);
  if (r.zeroTrust.length > 0) ui.info("  zero trust (the seed's rules, and what enforces each):");
  for (const c of r.zeroTrust) ui.info(`    ${c.rule}: ${c.fences.join("; ") || chalk.red("nothing")}`);
  for (const n of phase.notes) ui.info(chalk.dim(`  note: ${n}`));
}
