/**
 * Generated parts of the README: the table of phases (from the roadmap data) and the components' arguments
 * (from their Args types and JSDoc, with the TypeScript compiler API: see componentDocs.ts). `npm run docs` rewrites them; a unit test fails if the README drifts.
 */
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { componentArgsDoc } from "./componentDocs";
import { estimatePhase } from "./estimate";
import { bundledPrices } from "../programs/prices";
import { roadmaps, Range } from "../programs/roadmaps";

const range = (r?: Range) =>
  r
    ? r.max === undefined
      ? `${r.min.toLocaleString("en")}+`
      : r.min === r.max
        ? `${r.min}`
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

export function updateReadme(root: string, check = false): boolean {
  const path = join(root, "README.md");
  const text = readFileSync(path, "utf8");
  const replace = (t: string, tag: string, content: string) =>
    t.replace(new RegExp(`(<!-- ${tag}:begin -->)[\\s\\S]*?(<!-- ${tag}:end -->)`), (_m, a: string, b: string) => `${a}\n${content}\n${b}`);
  const next = replace(replace(text, "phases", phaseTable()), "components", componentArgsDoc(root));
  if (check) return next === text;
  writeFileSync(path, next);
  return true;
}

if (require.main === module) {
  updateReadme(join(__dirname, "..", ".."));
  process.stdout.write("README.md: phase table and component arguments regenerated\n");
}
