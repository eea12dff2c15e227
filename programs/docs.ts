/**
 * Generated parts of the README: the table of phases (from the roadmap data) and the components' arguments
 * (from their Args interfaces and JSDoc). `npm run docs` rewrites them; a unit test fails if the README drifts.
 */
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { estimatePhase } from "./estimate";
import { roadmaps, Range } from "./roadmaps";

const range = (r?: Range) => (r ? (r.max === undefined ? `${r.min.toLocaleString("en")}+` : r.min === r.max ? `${r.min}` : `${r.min.toLocaleString("en")}-${r.max.toLocaleString("en")}`) : "-");

export function phaseTable(): string {
  const rows = ["| Roadmap | Phase | What it deploys | Environments | Users | Req/s | Availability | Seed cost/month | probatio's itemised estimate |", "|---|---|---|---|---|---|---|---|---|"];
  for (const r of Object.values(roadmaps)) {
    for (const p of r.phases) {
      const envs = Object.keys(p.environments);
      const est = estimatePhase(p, envs[0]);
      const unit = p.targets.usersUnit === "users" ? "" : " condos";
      rows.push(`| ${r.title} | ${p.phase} | **${p.name}**: ${p.summary} | ${envs.join(", ")} | ${range(p.targets.users)}${unit} | ${range(p.targets.requestsPerSecond)} | ${p.targets.availability} % | ${p.targets.costAsWritten ?? `~${p.targets.monthlyCostEur} EUR`} | ${est.allEnvironmentsMonthlyEur} EUR |`);
    }
  }
  return rows.join("\n");
}

export function componentArgsDoc(root: string): string {
  const files = ["vpsFleet", "privateNetwork", "securityGroups", "loadBalancerPair", "postgresCluster", "redisSentinel", "k8sPlatform", "hsmEnclave", "wormBucket"];
  const out: string[] = [];
  for (const f of files) {
    const src = readFileSync(join(root, "components", `${f}.ts`), "utf8");
    const m = src.match(/export interface (\w+Args) \{\n([\s\S]*?)\n\}/);
    if (!m) continue;
    out.push(`#### ${m[1].replace(/Args$/, "")} (\`components/${f}.ts\`)`, "", "| argument | meaning and default |", "|---|---|");
    const body = m[2].split("\n");
    let doc = "";
    for (const line of body) {
      const d = line.match(/^\s+\/\*\* (.*) \*\/$/);
      const a = line.match(/^\s+readonly (\w+)(\?)?:/);
      if (d) doc = d[1];
      else if (a) {
        out.push(`| \`${a[1]}\`${a[2] ? "" : " (required)"} | ${doc.replace(/\|/g, "\\|")} |`);
        doc = "";
      }
    }
    out.push("");
  }
  return out.join("\n");
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
