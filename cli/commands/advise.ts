/**
 * `probatio advise`: applies the current phase's upgrade gates (the seed's "when to move on") to what Prometheus
 * measured and what the operator counts, and says: stay, or move, with the migration to run and the gates that fired.
 */
import { readFileSync } from "fs";
import { Command } from "commander";
import { recordedPhase } from "../automation/stackState";
import { openStack } from "../automation/workspace";
import { Advice, evaluateGates, GateResult, MetricsFile } from "../advise/evaluate";
import { queryAt } from "../autoscale/prometheus";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { getPhase, Phase } from "../../programs/roadmaps";
import { printJson, ui } from "../ui";
import { CommonOptions, lazy, parsePhase, withStackOptions } from "./common";

interface AdviseOptions extends CommonOptions {
  metrics?: string;
  prometheus?: string;
  at?: string;
}

export function register(program: Command): void {
  withStackOptions(program.command("advise"), false)
    .description("stay or move to the next phase? The seed's gates applied to your metrics (Prometheus, a metrics file, or both)")
    .option("-r, --roadmap <name>", "without --stack: the roadmap", "probatio")
    .option("-p, --phase <n>", "without --stack: the phase to advise on")
    .option("--metrics <file>", 'JSON of what you count and measure, e.g. {"users": 1200, "condominiums": 300}')
    .option("--prometheus <url>", "the stack's Prometheus (port 9090 of the monitoring machine, e.g. through an SSH tunnel)")
    .option("--at <time>", "evaluate as of this ISO 8601 time (default now)")
    .option("--json", "print one JSON object")
    .action(lazy(() => adviseCommand));
}

/** Subquery resolution: about 300 evaluations over the gate's window, at least one a minute. */
const resolution = (minutes: number) => `${Math.max(1, Math.round(minutes / 300))}m`;

function readMetrics(path: string, phase: Phase): MetricsFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ProbatioError(`cannot read the metrics file ${path}: ${(err as Error).message}`, undefined, ExitCode.usage);
  }
  const keys = [...new Set(phase.gatesToNext.flatMap((g) => (g.kind === "count" ? [g.key] : g.kind === "metric" ? [g.key] : [])))];
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ProbatioError(
      `the metrics file ${path} must hold a JSON object of numbers`,
      `keys for this phase: ${keys.join(", ")}`,
      ExitCode.usage,
    );
  }
  for (const [k, v] of Object.entries(parsed)) {
    if (!keys.includes(k))
      throw new ProbatioError(
        `the metrics file names '${k}', which no gate of this phase reads`,
        `keys for this phase: ${keys.join(", ")}`,
        ExitCode.usage,
      );
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new ProbatioError(`'${k}' in the metrics file must be a number (got ${JSON.stringify(v)})`, undefined, ExitCode.usage);
  }
  return parsed as MetricsFile;
}

/** The lowest value `query` took over the last `minutes` before `at`, if Prometheus has (nearly) the whole window. */
function fromPrometheus(url: string, at: number) {
  return async (query: string, minutes: number): Promise<number | undefined> => {
    const range = `[${minutes}m:${resolution(minutes)}]`;
    const expected = minutes / Number(resolution(minutes).slice(0, -1));
    const covered = await queryAt(url, `count_over_time((${query})${range})`, at);
    if (covered === undefined || covered < 0.9 * expected) return undefined;
    return queryAt(url, `min_over_time((${query})${range})`, at);
  };
}

const fmt = (r: GateResult) => {
  switch (r.status) {
    case "question":
      return `? ${r.gate.says}: ${r.question}`;
    case "unknown":
      return `- ${r.gate.says}: unknown (${r.source})`;
    default: {
      const g = r.gate;
      const unit = g.kind === "metric" ? ` ${g.unit}` : "";
      const limit = g.kind === "judged" ? "" : ` (gate: above ${g.above}${unit})`;
      return `${r.status === "fired" ? "!" : " "} ${g.says}: ${Math.round(r.value * 100) / 100}${unit}${limit}, ${r.source}`;
    }
  }
};

function print(a: Advice, json: boolean | undefined): void {
  if (json) {
    printJson({ command: "advise", ...a });
    return;
  }
  ui.heading(
    `${a.roadmap} phase ${a.phase}: ${a.verdict === "move" ? "move to the next phase" : a.verdict === "stay" ? "stay" : "the last phase: nothing to move to"}`,
  );
  for (const r of a.results) process.stdout.write(`  ${fmt(r)}\n`);
  if (a.command) ui.ok(`run: ${a.command} (it checks the target's settings first; --dry-run shows its plan)`);
  const questions = a.results.filter((r) => r.status === "question");
  if (a.verdict === "stay" && questions.length > 0) ui.info("no measured gate fired; a yes to any question above is a reason to move too");
}

export async function adviseCommand(opts: AdviseOptions): Promise<void> {
  if (!opts.metrics && !opts.prometheus) {
    throw new ProbatioError(
      "give --prometheus URL, --metrics FILE, or both",
      "e.g. probatio advise --stack prod --prometheus http://127.0.0.1:9090 --metrics counts.json",
      ExitCode.usage,
    );
  }
  const at = opts.at === undefined ? Date.now() : Date.parse(opts.at);
  if (Number.isNaN(at)) throw new ProbatioError(`--at '${opts.at}' is not an ISO 8601 time`, "e.g. 2026-11-25T10:00:00Z", ExitCode.usage);
  let phase: Phase;
  if (opts.stack) {
    const recorded = await recordedPhase(await openStack(opts, false));
    if (!recorded) throw new ProbatioError(`stack '${opts.stack}' has no phase deployed`, "or give --roadmap and --phase", ExitCode.usage);
    phase = getPhase(recorded.roadmap, recorded.phase);
  } else {
    if (opts.phase === undefined) throw new ProbatioError("give --stack, or --roadmap and --phase", undefined, ExitCode.usage);
    phase = parsePhase(opts);
  }
  const file = opts.metrics ? readMetrics(opts.metrics, phase) : undefined;
  const advice = await evaluateGates(
    phase,
    opts.stack ?? "<stack>",
    file,
    opts.prometheus ? fromPrometheus(opts.prometheus, Math.floor(at / 1000)) : undefined,
  );
  print(advice, opts.json);
}
