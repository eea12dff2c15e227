/**
 * Generated parts of the README: the table of phases (from the roadmap data) and the components' arguments
 * (from their Args types and JSDoc, with the TypeScript compiler API: see componentDocs.ts). `npm run docs` rewrites them; a unit test fails if the README drifts.
 */
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { componentArgsDoc } from "./componentDocs";
import { availabilityOf } from "./availability";
import { capacityOf } from "./capacity";
import { estimatePhase } from "./estimate";
import { bundledPrices } from "../programs/prices";
import { roadmaps, Range } from "../programs/roadmaps";

const range = (r?: Range) =>
  r
    ? r.max === undefined
      ? `${r.min.toLocaleString("en")}+`
      : r.min === r.max
        ? r.min.toLocaleString("en")
        : `${r.min.toLocaleString("en")}-${r.max.toLocaleString("en")}`
    : "-";

export function phaseTable(): string {
  const rows = [
    "| Roadmap | Phase | What it deploys | Environments | Users | Req/s | Availability | Seed cost/month | probatio's itemised estimate |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of Object.values(roadmaps)) {
    for (const p of r.phases) {
      const envs = Object.keys(p.environments);
      const est = estimatePhase(p, envs[0], bundledPrices());
      const unit = p.targets.usersUnit === "users" ? "" : " condos";
      rows.push(
        `| ${r.title} | ${p.phase} | **${p.name}**: ${p.summary} | ${envs.join(", ")} | ${range(p.targets.users)}${unit} | ${range(p.targets.requestsPerSecond)} | ${p.targets.availability} % | ${p.targets.costAsWritten ?? `~${p.targets.monthlyCostEur} EUR`} | ${est.allEnvironmentsMonthlyEur} EUR |`,
      );
    }
  }
  return rows.join("\n");
}

/** Each phase's computed availability and capacity beside the seed's targets, with the single points of failure left. */
export function estimatesTable(): string {
  const rows = [
    "| Roadmap | Phase | Availability computed (target) | Single points of failure left | Capacity computed, req/s (seed) | Users computed (seed) |",
    "|---|---|---|---|---|---|",
  ];
  for (const r of Object.values(roadmaps)) {
    for (const p of r.phases) {
      const env = Object.keys(p.environments)[0];
      const a = availabilityOf(p, env);
      const c = capacityOf(r, p, env);
      const mark = (ok: boolean) => (ok ? "" : " **short**");
      const rps = p.targets.requestsPerSecond;
      rows.push(
        `| ${r.title} | ${p.phase}${Object.keys(p.environments).length > 1 ? ` (${env})` : ""} | ${a.percent.toFixed(3)} % (${p.targets.availability} %)${mark(a.meetsTarget)} | ${a.singlePointsOfFailure.join(", ") || "none"} | ${range(c.requestsPerSecond)} (${range(rps)})${mark(!rps || c.requestsPerSecond.max! >= rps.min)} | ${range(c.users)} (${range(p.targets.users)})${mark(c.users.max! >= p.targets.users.min)} |`,
      );
    }
  }
  return rows.join("\n");
}

export function updateReadme(root: string, check = false): boolean {
  const path = join(root, "README.md");
  const text = readFileSync(path, "utf8");
  const replace = (t: string, tag: string, content: string) =>
    t.replace(new RegExp(`(<!-- ${tag}:begin -->)[\\s\\S]*?(<!-- ${tag}:end -->)`), (_m, a: string, b: string) => `${a}\n${content}\n${b}`);
  const next = replace(replace(replace(text, "phases", phaseTable()), "estimates", estimatesTable()), "components", componentArgsDoc(root));
  if (check) return next === text;
  writeFileSync(path, next);
  return true;
}

if (require.main === module) {
  updateReadme(join(__dirname, "..", ".."));
  process.stdout.write("README.md: phase table and component arguments regenerated\n");
}
